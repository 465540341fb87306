import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/** Repeats of the same message within this window go to debug, not warn. */
const REPEAT_MS = 60000;

/**
 * Route an emitter's `error` events (ioredis clients, BullMQ queues and workers) through pino.
 * The listener also keeps ioredis from printing "[ioredis] Unhandled error event" and
 * EventEmitter from throwing. While Redis is down every reconnect attempt errors, so a run of
 * identical messages logs once at warn (then at debug, with the count at the next warn).
 */
export function logErrors(emitter: EventEmitter, logger: Logger, msg: string): void {
  let last = '';
  let lastAt = 0;
  let repeats = 0;
  emitter.on('error', (err: Error) => {
    const text = err?.message ?? String(err);
    const now = Date.now();
    if (text === last && now - lastAt < REPEAT_MS) {
      repeats++;
      logger.debug({ err: text }, msg);
      return;
    }
    logger.warn({ err: text, ...(repeats ? { repeatsBefore: repeats } : {}) }, msg);
    last = text;
    lastAt = now;
    repeats = 0;
  });
}
