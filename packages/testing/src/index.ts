export { freePort } from './ports.ts';
export { RedisServer, redisServerAvailable, type RedisServerOptions } from './redis-server.ts';
