export { freePort } from './ports.ts';
export { RedisServer, redisServerAvailable, type RedisServerOptions } from './redis-server.ts';
export { hasExited, SERVICES, startService, stopServices, type RunningService, type ServiceName } from './services.ts';
export { allocatePorts, stackEnv, startStack, waitHttp, type Stack, type StackPorts } from './stack.ts';
