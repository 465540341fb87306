import { Type, type Static } from '@sinclair/typebox';
import { loadServiceConfig } from '@spar/service-kit';

export const ControllerConfigSchema = Type.Object({
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis holding experiment state' }),
  SPAR_HTTP_HOST: Type.String({ default: '0.0.0.0' }),
  SPAR_HTTP_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'API, /metrics, /healthz, /readyz, /docs' }),
  SPAR_API_TOKEN: Type.Optional(Type.String({ minLength: 8, description: 'bearer token required on mutating endpoints' })),
  SPAR_BODY_LIMIT: Type.Integer({ minimum: 1024, maximum: 16777216, default: 262144, description: 'max request body bytes (larger → 413)' }),
  SPAR_LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' }),
}, { additionalProperties: false });

export type ControllerConfig = Static<typeof ControllerConfigSchema>;
export const loadConfig = (env = process.env, argv = process.argv.slice(2)) => loadServiceConfig(ControllerConfigSchema, env, argv);
