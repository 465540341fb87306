import { hostname } from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { AdvertiseHostSetting, GrpcTlsSettings, GrpcTokenSetting, InsecureSetting, loadServiceConfig, OpsHostSetting } from '@spar/service-kit';

export const LearnerConfigSchema = Type.Object({
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  SPAR_GRPC_HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'address the gRPC server binds; beyond loopback it needs SPAR_GRPC_TOKEN or mutual TLS (or SPAR_INSECURE)' }),
  SPAR_INSECURE: InsecureSetting,
  SPAR_OPS_HOST: OpsHostSetting,
  SPAR_GRPC_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 50051, description: 'PolicyService (WatchPolicy/GetPolicy) + health' }),
  SPAR_ADVERTISE_HOST: AdvertiseHostSetting,
  SPAR_OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9468, description: '/metrics, /healthz, /readyz' }),
  SPAR_DATA_DIR: Type.String({ default: './runs', description: 'checkpoints (<dir>/<experiment>/checkpoints) and exports (<dir>/<experiment>/export)' }),
  SPAR_LEASE_MS: Type.Integer({ minimum: 1000, maximum: 600000, default: 15000, description: 'experiment lease; another learner takes over after it lapses' }),
  SPAR_DEDUPE_WINDOW_MS: Type.Integer({ minimum: 1000, maximum: 86400000, default: 300000, description: 'how long the judge remembers an appended group id (a re-delivery within it is refused as a duplicate); trimmed at each checkpoint' }),
  SPAR_STALL_MS: Type.Integer({ minimum: 1000, maximum: 86400000, default: 300000, description: 'no batch for this long: warn; and a run whose time budget runs out while so stalled ends failed (stalled), not completed' }),
  SPAR_POLL_MS: Type.Integer({ minimum: 10, maximum: 60000, default: 500, description: 'how often an idle learner looks for experiments' }),
  SPAR_EP: Type.Union([Type.Literal('cpu'), Type.Literal('cuda')], { default: 'cpu', description: 'onnxruntime execution provider for the train step' }),
  SPAR_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 0, description: 'onnxruntime intra-op threads (0 = all cores)' }),
  SPAR_SPIN: Type.Boolean({ default: false, description: 'let idle onnxruntime threads spin (faster alone on a machine, slower when services share cores)' }),
  SPAR_LEARNER_ID: Type.String({ default: `${hostname()}-${process.pid}`, minLength: 1 }),
  SPAR_GRPC_TOKEN: GrpcTokenSetting,
  ...GrpcTlsSettings,
  SPAR_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' }),
}, { additionalProperties: false });

export type LearnerConfig = Static<typeof LearnerConfigSchema>;
export const loadConfig = (env = process.env, argv = process.argv.slice(2)) => loadServiceConfig(LearnerConfigSchema, env, argv);
