import { Type, type Static } from '@sinclair/typebox';
import { AdvertiseHostSetting, GrpcTlsSettings, GrpcTokenSetting, loadServiceConfig, OpsHostSetting } from '@spar/service-kit';

export const ProposerConfigSchema = Type.Object({
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  SPAR_JUDGE_ADDR: Type.String({ default: '', description: 'host:port of one JudgeService; empty: every judge registered in Redis, called in turn' }),
  SPAR_JUDGE_DEADLINE_MS: Type.Integer({ minimum: 10, maximum: 600000, default: 5000, description: 'deadline of one ValidateTasks call' }),
  SPAR_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9467, description: '/metrics, /healthz, /readyz' }),
  SPAR_OPS_HOST: OpsHostSetting,
  SPAR_BATCH: Type.Integer({ minimum: 1, maximum: 1024, default: 16, description: 'tasks proposed per round' }),
  SPAR_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 1, description: 'onnxruntime intra-op threads per policy (0 = all cores)' }),
  SPAR_TASK_SEEN_MAX: Type.Integer({ minimum: 1, maximum: 10000000, default: 50000, description: 'task ids remembered for dedupe (the newest; a task proposed again after that many others counts as new)' }),
  SPAR_TASK_BUFFER: Type.Integer({ minimum: 1, maximum: 100000, default: 256, description: 'valid tasks kept as references' }),
  SPAR_ADVERTISE_HOST: AdvertiseHostSetting,
  SPAR_GRPC_TOKEN: GrpcTokenSetting,
  ...GrpcTlsSettings,
  SPAR_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' }),
}, { additionalProperties: false });

export type ProposerConfig = Static<typeof ProposerConfigSchema>;
export const loadConfig = (env = process.env, argv = process.argv.slice(2)) => loadServiceConfig(ProposerConfigSchema, env, argv);
