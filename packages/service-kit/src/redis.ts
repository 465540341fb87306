import { Redis } from 'ioredis';

export type { Redis };

/**
 * A Redis connection for BullMQ and plain commands: unlimited retries per request (BullMQ's
 * requirement for blocking connections), reconnects forever with capped back-off.
 */
export function connectRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * times, 2000),
  });
}

/** Close a connection, falling back to disconnect if QUIT cannot be sent. Idempotent. */
export async function closeRedis(r: Redis): Promise<void> {
  if (r.status === 'end') return;
  try {
    await r.quit();
  } catch {
    r.disconnect();
  }
}
