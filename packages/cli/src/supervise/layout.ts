import { freePort } from './ports.ts';
import type { ServiceName } from './services.ts';

/** The ports of one stack of the five services on this machine. */
export interface StackPorts {
  readonly http: number;
  readonly judgeGrpc: number;
  readonly learnerGrpc: number;
  /** /metrics port of each service (the controller serves it on its HTTP port). */
  readonly metrics: Record<ServiceName, number>;
}

/** Environment of each service for a stack on loopback (every listener's default host, 127.0.0.1). */
export function stackEnv(redisUrl: string, p: StackPorts, dataDir: string, logLevel = 'info'): Record<ServiceName, NodeJS.ProcessEnv> {
  const common = { REDIS_URL: redisUrl, SPAR_LOG_LEVEL: logLevel };
  return {
    controller: { ...common, SPAR_HTTP_PORT: String(p.http) },
    judge: { ...common, SPAR_GRPC_PORT: String(p.judgeGrpc), SPAR_OPS_PORT: String(p.metrics.judge) },
    learner: { ...common, SPAR_GRPC_PORT: String(p.learnerGrpc), SPAR_OPS_PORT: String(p.metrics.learner), SPAR_DATA_DIR: dataDir },
    solver: { ...common, SPAR_OPS_PORT: String(p.metrics.solver) },
    proposer: { ...common, SPAR_OPS_PORT: String(p.metrics.proposer), SPAR_JUDGE_ADDR: `127.0.0.1:${p.judgeGrpc}` },
  };
}

export async function allocatePorts(): Promise<StackPorts> {
  const [http, judgeGrpc, learnerGrpc, j, l, s, pr] = await Promise.all(Array.from({ length: 7 }, () => freePort()));
  return { http: http!, judgeGrpc: judgeGrpc!, learnerGrpc: learnerGrpc!, metrics: { controller: http!, judge: j!, learner: l!, solver: s!, proposer: pr! } };
}

