import { Type, type Static } from '@sinclair/typebox';
import { AdvertiseHostSetting, GrpcTlsSettings, GrpcTokenSetting, InsecureSetting, loadServiceConfig, OpsHostSetting } from '@spar/service-kit';

export const JudgeConfigSchema = Type.Object({
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  SPAR_GRPC_HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'address the gRPC server binds; beyond loopback it needs SPAR_GRPC_TOKEN or mutual TLS (or SPAR_INSECURE)' }),
  SPAR_INSECURE: InsecureSetting,
  SPAR_OPS_HOST: OpsHostSetting,
  SPAR_GRPC_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 50052, description: 'JudgeService (ValidateTasks) + health' }),
  SPAR_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9465, description: '/metrics, /healthz, /readyz' }),
  SPAR_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 4, description: 'rollout groups judged at once per experiment' }),
  SPAR_JUDGE_TIMEOUT_MS: Type.Integer({ minimum: 10, maximum: 600000, default: 10000, description: 'hard limit for judging one group or validating one batch; the sandbox thread is terminated on overrun' }),
  SPAR_SANDBOX_THREADS: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'sandbox processes that execute recipe judges' }),
  SPAR_SANDBOX_HEAP_MB: Type.Integer({ minimum: 32, maximum: 65536, default: 256, description: 'V8 heap limit of each sandbox process (MiB); a call that needs more fails alone and the process is replaced' }),
  SPAR_SANDBOX_MEMORY_MB: Type.Integer({ minimum: 64, maximum: 262144, default: 512, description: 'resident-memory cap of each sandbox process (MiB), the heap and everything outside it; over it the process is killed, that call alone fails and the process is replaced' }),
  SPAR_SANDBOX_QUEUE: Type.Integer({ minimum: 0, maximum: 100000, default: 256, description: 'calls that may wait for a free sandbox thread; more are refused (retryable)' }),
  SPAR_MAX_TASKS_PER_CALL: Type.Integer({ minimum: 1, maximum: 10000, default: 256 }),
  SPAR_JOB_LOCK_MS: Type.Integer({ minimum: 1000, maximum: 3600000, default: 60000, description: 'BullMQ job lock: a job whose worker stops renewing it (crashed, paused) is redelivered after this' }),
  SPAR_STALLED_INTERVAL_MS: Type.Integer({ minimum: 500, maximum: 600000, default: 15000, description: 'how often BullMQ looks for jobs whose lock lapsed' }),
  SPAR_ADVERTISE_HOST: AdvertiseHostSetting,
  SPAR_GRPC_TOKEN: GrpcTokenSetting,
  ...GrpcTlsSettings,
  SPAR_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' }),
}, { additionalProperties: false });

export type JudgeConfig = Static<typeof JudgeConfigSchema>;
export const loadConfig = (env = process.env, argv = process.argv.slice(2)) => loadServiceConfig(JudgeConfigSchema, env, argv);
