import { connectRedis, redisReady, whenRedisReady, type Logger, type Redis } from '@spar/service-kit';

/**
 * How the API answers 503 within 2 s while Redis is down: a request waits at most
 * `reconnectGraceMs` for a connection that is reconnecting (a blip passes unnoticed), and on a
 * connection without an offline queue every command fails after `commandTimeoutMs` (a paused or
 * half-open Redis). Nothing is queued to run after the client was told 503; a command already
 * sent when the connection dropped may still have run (the 503 then means "outcome unknown").
 */
export const API_REDIS = { reconnectGraceMs: 500, commandTimeoutMs: 1000 } as const;

/** The controller's connection: fails fast instead of queueing (see API_REDIS). */
export function connectApiRedis(url: string, logger: Logger): Redis {
  return connectRedis(url, 'controller', logger, { failFastMs: API_REDIS.commandTimeoutMs });
}

/** `ready` (for /readyz) and `available` (for API routes) of buildApp, over one connection. */
export function redisChecks(redis: Redis): { ready: () => Promise<boolean>; available: () => Promise<boolean> } {
  return { ready: () => redisReady(redis), available: () => whenRedisReady(redis, API_REDIS.reconnectGraceMs) };
}
