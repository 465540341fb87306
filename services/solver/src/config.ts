import { Type, type Static } from '@sinclair/typebox';
import { AdvertiseHostSetting, GrpcTlsSettings, GrpcTokenSetting, loadServiceConfig, OpsHostSetting } from '@spar/service-kit';

export const SolverConfigSchema = Type.Object({
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  SPAR_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9466, description: '/metrics, /healthz, /readyz' }),
  SPAR_OPS_HOST: OpsHostSetting,
  SPAR_MAX_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'upper bound on tasks solved at once per experiment (the experiment asks for rollout.concurrency)' }),
  SPAR_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 1, description: 'onnxruntime intra-op threads per policy (0 = all cores)' }),
  SPAR_ADMISSION_TTL_MS: Type.Integer({ minimum: 1000, maximum: 3600000, default: 30000, description: 'lifetime of an admission token its holder stopped renewing (a crashed solver\'s share of the budget comes back after this)' }),
  SPAR_SYNC_WAIT_MS: Type.Integer({ minimum: 0, maximum: 60000, default: 2000, description: 'how long an admitted group waits for the learner\'s newest published weights before generating with the copy it has' }),
  SPAR_JOB_LOCK_MS: Type.Integer({ minimum: 1000, maximum: 3600000, default: 60000, description: 'BullMQ job lock: a job whose worker stops renewing it (crashed, paused) is redelivered after this' }),
  SPAR_STALLED_INTERVAL_MS: Type.Integer({ minimum: 500, maximum: 600000, default: 15000, description: 'how often BullMQ looks for jobs whose lock lapsed' }),
  SPAR_ADVERTISE_HOST: AdvertiseHostSetting,
  SPAR_GRPC_TOKEN: GrpcTokenSetting,
  ...GrpcTlsSettings,
  SPAR_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' }),
}, { additionalProperties: false });

export type SolverConfig = Static<typeof SolverConfigSchema>;
export const loadConfig = (env = process.env, argv = process.argv.slice(2)) => loadServiceConfig(SolverConfigSchema, env, argv);
