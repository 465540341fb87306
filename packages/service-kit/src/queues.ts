import { Queue, Worker, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import { PayloadTooLargeError } from '@spar/core';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { logErrors } from './log-errors.ts';

export const BULL_PREFIX = 'spar';

/** Retries with back-off; bounded completed/failed history so Redis memory stays flat. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { count: 500 },
  removeOnFail: { count: 2000 },
};

/** Default producer-side payload cap (bytes of JSON). */
export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

/** A queue whose errors (a Redis outage, mostly) are logged through `logger` (component "queue"). */
export function makeQueue(name: string, connection: Redis, logger: Logger): Queue {
  const q = new Queue(name, { connection, prefix: BULL_PREFIX, defaultJobOptions: DEFAULT_JOB_OPTIONS });
  logErrors(q, logger.child({ component: 'queue', queue: name }), 'queue error');
  return q;
}

/** A worker whose errors (its own and its blocking connection's) are logged through `logger` (component "worker"). */
export function makeWorker<T>(name: string, connection: Redis, processor: Processor<T>, logger: Logger, opts: Partial<WorkerOptions> = {}): Worker<T> {
  const w = new Worker<T>(name, processor, {
    connection, prefix: BULL_PREFIX, concurrency: 1, lockDuration: 60000, stalledInterval: 15000, maxStalledCount: 2, ...opts,
  });
  logErrors(w, logger.child({ component: 'worker', queue: name }), 'worker error');
  return w;
}

/** Enqueue with a deterministic job id (re-adding the same id is a no-op) after checking the size cap. */
export async function enqueue(queue: Queue, jobId: string, data: unknown, maxBytes = MAX_PAYLOAD_BYTES): Promise<void> {
  const bytes = Buffer.byteLength(JSON.stringify(data));
  if (bytes > maxBytes) throw new PayloadTooLargeError(`job ${jobId} for ${queue.name}`, bytes, maxBytes);
  await queue.add('job', data, { jobId });
}
