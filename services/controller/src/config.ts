import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_LIMITS, type ResourceLimits } from '@spar/core';
import { AdvertiseHostSetting, InsecureSetting, loadServiceConfig } from '@spar/service-kit';

export const ControllerConfigSchema = Type.Object({
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis holding experiment state' }),
  SPAR_HTTP_HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'address the API binds; beyond loopback it needs SPAR_API_TOKEN (or SPAR_INSECURE)' }),
  SPAR_INSECURE: InsecureSetting,
  SPAR_HTTP_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'API, /metrics, /healthz, /readyz, /docs' }),
  SPAR_ADVERTISE_HOST: AdvertiseHostSetting,
  SPAR_API_TOKEN: Type.Optional(Type.String({ minLength: 8, description: 'bearer token required on mutating endpoints' })),
  SPAR_BODY_LIMIT: Type.Integer({ minimum: 1024, maximum: 16777216, default: 262144, description: 'max request body bytes (larger → 413)' }),
  SPAR_MAX_PARAMS: Type.Integer({ minimum: 1, default: DEFAULT_LIMITS.maxParams, description: 'most policy parameters an experiment may ask for' }),
  SPAR_MAX_CONTEXT: Type.Integer({ minimum: 2, default: DEFAULT_LIMITS.maxContext, description: 'largest policy.context' }),
  SPAR_MAX_ROLLOUTS_IN_FLIGHT: Type.Integer({ minimum: 1, default: DEFAULT_LIMITS.maxRolloutsInFlight, description: 'largest rollout.groupSize × rollout.concurrency' }),
  SPAR_MAX_BATCH_TOKENS: Type.Integer({ minimum: 1, default: DEFAULT_LIMITS.maxBatchTokens, description: 'largest learner.batchSize × policy.context' }),
  SPAR_MAX_EVAL_EPISODES: Type.Integer({ minimum: 1, default: DEFAULT_LIMITS.maxEvalEpisodes, description: 'largest eval.episodes' }),
  SPAR_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' }),
}, { additionalProperties: false });

export type ControllerConfig = Static<typeof ControllerConfigSchema>;
export const loadConfig = (env = process.env, argv = process.argv.slice(2)) => loadServiceConfig(ControllerConfigSchema, env, argv);

/** The experiment resource caps this controller admits (see docs/configuration.md). */
export function limitsOf(c: ControllerConfig): ResourceLimits {
  return Object.freeze({
    maxParams: c.SPAR_MAX_PARAMS, maxContext: c.SPAR_MAX_CONTEXT, maxRolloutsInFlight: c.SPAR_MAX_ROLLOUTS_IN_FLIGHT,
    maxBatchTokens: c.SPAR_MAX_BATCH_TOKENS, maxEvalEpisodes: c.SPAR_MAX_EVAL_EPISODES,
  });
}
