import { timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyBaseLogger } from "fastify";
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import { DEFAULT_LIMITS, parseConfigText, parseExperiment, SparError, ValidationError, type ExperimentRecord, type ResourceLimits } from '@spar/core';
import type { RecipeRegistry } from '@spar/recipes';
import { isRedisUnavailable, readyWithin, type ExperimentStore, type Logger, type Metrics, type ServiceInstance } from '@spar/service-kit';
import { problem } from './problem.ts';
import { warmStartSourceIssues } from './warm-start-source.ts';

export interface AppOptions {
  readonly store: ExperimentStore;
  readonly recipes: RecipeRegistry;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly bodyLimit: number;
  /** Resource caps a submitted config must fit (default DEFAULT_LIMITS). */
  readonly limits?: ResourceLimits;
  readonly apiToken?: string;
  readonly ready: () => Promise<boolean>;
  /** Whether Redis can take commands now; may wait briefly through a reconnect (see api-redis.ts). */
  readonly available: () => Promise<boolean>;
  /** Registered replicas of every service (Redis service discovery), for Prometheus HTTP SD. */
  readonly services?: () => Promise<ServiceInstance[]>;
}

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'];

function summary(r: ExperimentRecord) {
  const { config, evaluations, ...rest } = r;
  return { ...rest, name: (config as { name?: string }).name, recipe: (config as { recipe?: string }).recipe };
}

/** The controller's HTTP API. Built separately from main() so tests can use inject(). */
export async function buildApp(o: AppOptions) {
  const app = Fastify({ loggerInstance: o.logger.child({ component: "http" }) as unknown as FastifyBaseLogger, bodyLimit: o.bodyLimit });
  const badInput = (kind: string) => o.metrics.counter('spar_bad_input_total').inc({ service: 'controller', kind });

  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: o.bodyLimit }, (_req, body, done) => {
    try {
      done(null, parseConfigText(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'spar controller API', version: '0.1.0', description: 'Submit and manage self-play experiments.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err, req, reply) => {
    const e = err as Error & { statusCode?: number; code?: string };
    if (e instanceof ValidationError) {
      badInput('invalid_config');
      return problem(reply, 400, 'Invalid experiment config', e.message, { errors: e.issues });
    }
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
      badInput('too_large');
      return problem(reply, 413, 'Payload too large', `request body exceeds ${o.bodyLimit} bytes`);
    }
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415) {
      badInput('unsupported_media_type');
      return problem(reply, 415, 'Unsupported media type', 'send application/json or application/yaml');
    }
    if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (e.statusCode === 400 && e.code?.startsWith('FST_ERR'))) {
      badInput('malformed_body');
      return problem(reply, 400, 'Malformed request body', e.message, { errors: [{ path: '', message: e.message }] });
    }
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      // Any other client error keeps its status, e.g. the /docs static files' 403 (path
      // traversal), 412 (If-Match) and 416 (Range).
      badInput('bad_request');
      return problem(reply, e.statusCode, STATUS_CODES[e.statusCode] ?? 'Bad request', e.message);
    }
    if (e instanceof SparError && e.code !== 'UNAVAILABLE') {
      const status = e.code === 'NOT_FOUND' ? 404 : e.code === 'CONFLICT' ? 409 : 500;
      return problem(reply, status, e.code, e.message);
    }
    if ((e instanceof SparError && e.code === 'UNAVAILABLE') || isRedisUnavailable(e)) {
      req.log.warn({ err: e.message }, 'redis unavailable');
      return unavailable(reply);
    }
    req.log.error({ err: e }, 'unhandled error');
    return problem(reply, 500, 'Internal error');
  });

  app.addHook('onResponse', async (req, reply) => {
    o.metrics.counter('spar_http_requests_total').inc({ method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });

  const token = o.apiToken ? Buffer.from(o.apiToken) : undefined;
  const auth = async (req: { headers: Record<string, unknown> }, reply: Parameters<typeof problem>[0]) => {
    if (!token) return;
    const h = String(req.headers.authorization ?? '');
    const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7) : '');
    if (given.length !== token.length || !timingSafeEqual(given, token)) {
      badInput('unauthorized');
      return problem(reply.header('www-authenticate', 'Bearer'), 401, 'Unauthorized', 'a valid bearer token is required');
    }
  };

  const unavailable = (reply: Parameters<typeof problem>[0]) =>
    problem(reply.header('retry-after', '1'), 503, 'Service unavailable', 'the experiment store (Redis) is unreachable; retry later');
  // Routes that need Redis answer 503 at once while it is unreachable, instead of waiting on it.
  const needsRedis = async (_req: unknown, reply: Parameters<typeof problem>[0]) => {
    if (!(await o.available())) return unavailable(reply);
  };

  const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
  const schemaDoc = o.recipes.jsonSchema();

  app.post('/v1/experiments', {
    onRequest: needsRedis, preHandler: auth,
    // Validation is ours (every bad field listed); the schema is here for OpenAPI.
    validatorCompiler: () => () => true,
    schema: { summary: 'Submit an experiment (JSON or YAML)', body: schemaDoc, security: [{ bearer: [] }], tags: ['experiments'] },
  }, async (req, reply) => {
    const config = parseExperiment(req.body, o.recipes, o.limits ?? DEFAULT_LIMITS);
    const sourceIssues = await warmStartSourceIssues(config, o.store, o.recipes, o.limits ?? DEFAULT_LIMITS);
    if (sourceIssues.length) throw new ValidationError('experiment config', sourceIssues);
    const rec = await o.store.create(config);
    req.log.info({ experimentId: rec.id, recipe: config.recipe }, 'experiment submitted');
    return reply.code(201).header('location', `/v1/experiments/${rec.id}`).send(rec);
  });

  app.get('/v1/experiments', { onRequest: needsRedis, schema: { summary: 'List experiments', tags: ['experiments'] } }, async () => ({
    experiments: (await o.store.list()).map(summary),
  }));

  app.get('/v1/experiments/:id', { onRequest: needsRedis, schema: { summary: 'One experiment: state, step, policy version, metrics, evaluations', params: Id, tags: ['experiments'] } },
    async (req) => o.store.get((req.params as { id: string }).id));

  app.get('/v1/experiments/:id/ratings', {
    onRequest: needsRedis,
    schema: { summary: 'The league of an experiment: best, latest, Elo ratings (anchors and snapshots), gates (empty for an experiment without a league)', params: Id, tags: ['experiments'] },
  }, async (req) => {
    const rec = await o.store.get((req.params as { id: string }).id);
    const league = rec.league;
    if (!league) return { experimentId: rec.id, ratings: [], gates: [] };
    return { experimentId: rec.id, best: league.best, latest: league.latest, ratings: league.ratings ?? [], gates: league.gates ?? [] };
  });

  app.post('/v1/experiments/:id/stop', { onRequest: needsRedis, preHandler: auth, schema: { summary: 'Stop an experiment', params: Id, security: [{ bearer: [] }], tags: ['experiments'] } },
    async (req, reply) => reply.code(202).send(await o.store.requestStop((req.params as { id: string }).id)));

  app.delete('/v1/experiments/:id', { onRequest: needsRedis, preHandler: auth, schema: { summary: 'Delete a finished experiment and its data', params: Id, security: [{ bearer: [] }], tags: ['experiments'] } },
    async (req, reply) => {
      await o.store.delete((req.params as { id: string }).id);
      return reply.code(204).send();
    });

  app.get('/v1/schema', { schema: { summary: 'The experiment config JSON Schema', tags: ['experiments'] } }, async () => schemaDoc);
  // Prometheus HTTP service discovery (http_sd_configs): one target group per registered replica.
  app.get('/v1/sd/prometheus', {
    onRequest: needsRedis,
    schema: { summary: 'Prometheus HTTP service discovery: every registered replica\'s metrics address', tags: ['operations'] },
  }, async () => ((await o.services?.()) ?? []).map((s) => ({
    targets: [s.ops],
    labels: { service: s.service, instance_id: s.id },
  })));
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics()));
  app.get('/healthz', { schema: { hide: true } }, async () => 'ok\n');
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => ((await readyWithin(o.ready)) ? 'ready\n' : reply.code(503).send('not ready\n')));
  app.setNotFoundHandler((req, reply) => problem(reply, 404, 'Not found', `${req.method} ${req.url}`));
  return app;
}
