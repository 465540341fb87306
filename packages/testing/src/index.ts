export {
  allocatePorts, freePort, hasExited, RedisServer, redisServerAvailable, SERVICES, stackEnv, startService, stopServices,
  type RedisServerOptions, type RunningService, type ServiceName, type StackPorts,
} from '@spar/cli/supervise';
export { startStack, waitHttp, type Stack, type StackOptions } from './stack.ts';
