import { Queue, Worker, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import { PayloadTooLargeError } from '@spar/core';
import type { Redis } from 'ioredis';

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

export function makeQueue(name: string, connection: Redis): Queue {
  return new Queue(name, { connection, prefix: BULL_PREFIX, defaultJobOptions: DEFAULT_JOB_OPTIONS });
}

export function makeWorker<T>(name: string, connection: Redis, processor: Processor<T>, opts: Partial<WorkerOptions> = {}): Worker<T> {
  return new Worker<T>(name, processor, {
    connection, prefix: BULL_PREFIX, concurrency: 1, lockDuration: 60000, stalledInterval: 15000, maxStalledCount: 2, ...opts,
  });
}

/** Enqueue with a deterministic job id (re-adding the same id is a no-op) after checking the size cap. */
export async function enqueue(queue: Queue, jobId: string, data: unknown, maxBytes = MAX_PAYLOAD_BYTES): Promise<void> {
  const bytes = Buffer.byteLength(JSON.stringify(data));
  if (bytes > maxBytes) throw new PayloadTooLargeError(`job ${jobId} for ${queue.name}`, bytes, maxBytes);
  await queue.add('job', data, { jobId });
}
