import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { logErrors } from './log-errors.ts';

export type { Redis };

export interface ConnectOptions {
  /**
   * For request/response paths (the HTTP API): no offline queue — a command issued while
   * disconnected fails at once instead of being queued and sent after the reply was given up —
   * and every command times out after this many ms (a half-open connection). Not for BullMQ
   * workers: their blocking commands outlive any such timeout.
   */
  readonly failFastMs?: number;
}

/**
 * A Redis connection for BullMQ and plain commands: unlimited retries per request (BullMQ's
 * requirement for blocking connections), reconnects forever with capped back-off. Connection
 * errors go through `logger` (component "redis"); the return of the connection is logged too.
 */
export function connectRedis(url: string, name: string, logger: Logger, opts: ConnectOptions = {}): Redis {
  const r = new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * times, 2000),
    ...(opts.failFastMs ? { enableOfflineQueue: false, commandTimeout: opts.failFastMs } : {}),
  });
  const log = logger.child({ component: 'redis', connection: name });
  logErrors(r, log, 'redis connection error');
  let lost = false;
  r.on('close', () => { lost = true; });
  r.on('ready', () => {
    if (lost) log.info('redis connection restored');
    lost = false;
  });
  return r;
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

/** Resolves true once `r` is connected and ready, false after `waitMs` (or at once if closed for good). */
export function whenRedisReady(r: Redis, waitMs: number): Promise<boolean> {
  if (r.status === 'ready') return Promise.resolve(true);
  if (r.status === 'end' || waitMs <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      r.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), waitMs);
    r.on('ready', onReady);
  });
}

/** Readiness: connected, and a PING answered within `timeoutMs` (a half-open socket looks connected). */
export async function redisReady(r: Redis, timeoutMs = 1000): Promise<boolean> {
  if (r.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
  try {
    return await Promise.race([r.ping().then((p) => p === 'PONG', () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

const UNAVAILABLE = [/^Command timed out/, /^Stream isn't writeable/, /^Connection is closed/, /^Reached the max retries/, /^(LOADING|MASTERDOWN|OOM|BUSY|TRYAGAIN)\b/];

/**
 * Whether an error means "Redis cannot take this command now" (down, reconnecting, loading, out
 * of memory under noeviction) rather than a bug: adapters answer 503 for these. ioredis gives these
 * errors no class or code, hence the messages.
 */
export function isRedisUnavailable(err: unknown): boolean {
  const msg = (err as { message?: unknown })?.message;
  return typeof msg === 'string' && UNAVAILABLE.some((re) => re.test(msg));
}
