// Running spar's services as child processes on one machine: local mode's supervisor, and the
// pieces the test harness (@spar/testing) shares with it.
export { allocatePorts, stackEnv, type StackPorts } from './layout.ts';
export { freePort } from './ports.ts';
export { RedisServer, redisServerAvailable, type RedisServerOptions } from './redis-server.ts';
export { hasExited, SERVICES, startService, stopServices, type RunningService, type ServiceName } from './services.ts';
export { Supervisor, type SupervisorOptions } from './supervisor.ts';
