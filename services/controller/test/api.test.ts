import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { builtinRecipes } from '@spar/recipes';
import { closeRedis, createLogger, ExperimentStore, listServices, Metrics, ServiceRegistration, type Redis } from '@spar/service-kit';
import { RedisServer } from '@spar/testing';
import { connectApiRedis, redisChecks } from '../src/api-redis.ts';
import { buildApp } from '../src/app.ts';

let redis: RedisServer;
let conn: Redis;
let app: Awaited<ReturnType<typeof buildApp>>;
let metrics: Metrics;
const TOKEN = 'secret-token-123';
const good = { name: 'ttt', recipe: 'spiral-games', options: { games: ['tictactoe'] }, rollout: { maxNewTokens: 1 } };

before(async () => {
  redis = await RedisServer.start();
  conn = connectApiRedis(redis.url, createLogger('controller', 'error'));
  metrics = new Metrics('controller', false);
  app = await buildApp({
    store: new ExperimentStore(conn), recipes: builtinRecipes(), metrics, logger: createLogger('controller', 'error'),
    bodyLimit: 4096, apiToken: TOKEN, ...redisChecks(conn), services: () => listServices(conn),
  });
});
after(async () => {
  await app?.close();
  await closeRedis(conn);
  await redis?.stop();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const post = (body: string, type = 'application/json', headers: Record<string, string> = auth) =>
  app.inject({ method: 'POST', url: '/v1/experiments', payload: body, headers: { 'content-type': type, ...headers } });

test('submit JSON and YAML; get, list, stop, delete', async () => {
  const a = await post(JSON.stringify(good));
  assert.equal(a.statusCode, 201);
  const rec = a.json();
  assert.equal(rec.state, 'queued');
  assert.equal(a.headers.location, `/v1/experiments/${rec.id}`);
  assert.equal(rec.config.learner.batchSize, 64, 'defaults applied from the schema');
  const y = await post('name: y\nrecipe: spiral-games\noptions: { games: [kuhn] }\nrollout: { maxNewTokens: 1 }\n', 'application/yaml');
  assert.equal(y.statusCode, 201);
  assert.deepEqual(y.json().config.options.games, ['kuhn']);
  const got = await app.inject({ url: `/v1/experiments/${rec.id}` });
  assert.equal(got.json().id, rec.id);
  const list = (await app.inject({ url: '/v1/experiments' })).json();
  assert.equal(list.experiments.length, 2);
  // A queued experiment stops at once; then it can be deleted.
  const stop = await app.inject({ method: 'POST', url: `/v1/experiments/${rec.id}/stop`, headers: auth });
  assert.equal(stop.statusCode, 202);
  assert.equal(stop.json().state, 'stopped');
  assert.equal((await app.inject({ method: 'DELETE', url: `/v1/experiments/${rec.id}`, headers: auth })).statusCode, 204);
  assert.equal((await app.inject({ url: `/v1/experiments/${rec.id}` })).statusCode, 404);
  // Deleting a queued (not finished) experiment is a conflict, and nothing is lost.
  const del = await app.inject({ method: 'DELETE', url: `/v1/experiments/${y.json().id}`, headers: auth });
  assert.equal(del.statusCode, 409);
  assert.equal((await app.inject({ url: `/v1/experiments/${y.json().id}` })).statusCode, 200);
});

test('invalid configs get 400 problem+json listing every bad field', async () => {
  const bad = { name: '', recipe: 'spiral-games', options: { games: ['chess'], extra: 1 }, policy: { layers: 0, bogus: true }, learner: { loss: { clipLow: 'x' } }, surprise: 1 };
  const r = await post(JSON.stringify(bad));
  assert.equal(r.statusCode, 400);
  assert.match(r.headers['content-type'] as string, /application\/problem\+json/);
  const paths = r.json().errors.map((e: { path: string }) => e.path);
  for (const p of ['/name', '/options/games/0', '/options', '/policy/layers', '/policy', '/learner/loss/clipLow', '']) {
    assert.ok(paths.some((x: string) => x === p || x.startsWith(`${p}/`) || (p === '' && x === '')), `no issue for ${p}: ${JSON.stringify(paths)}`);
  }
  const unknownRecipe = await post(JSON.stringify({ ...good, recipe: 'nope' }));
  assert.equal(unknownRecipe.statusCode, 400);
  assert.match(JSON.stringify(unknownRecipe.json().errors), /unknown recipe 'nope'/);
  const badSuite = await post(JSON.stringify({ ...good, eval: { suites: ['kuhn'] } }));
  assert.equal(badSuite.statusCode, 400);
  assert.equal(badSuite.json().errors[0].path, '/eval/suites/0');
});

test('malformed bodies, wrong types, huge bodies and missing auth are clear errors that crash nothing', async () => {
  assert.equal((await post('{"name": ')).statusCode, 400);
  assert.equal((await post('name: [unclosed', 'application/yaml')).statusCode, 400);
  assert.equal((await post('[1,2,3]')).statusCode, 400);
  assert.equal((await post('"just a string"')).statusCode, 400);
  const huge = await post(JSON.stringify({ ...good, name: 'x'.repeat(10000) }));
  assert.equal(huge.statusCode, 413);
  assert.equal(huge.json().status, 413);
  assert.equal((await post('<xml/>', 'application/xml')).statusCode, 415);
  const noAuth = await post(JSON.stringify(good), 'application/json', {});
  assert.equal(noAuth.statusCode, 401);
  const wrongAuth = await post(JSON.stringify(good), 'application/json', { authorization: 'Bearer nope' });
  assert.equal(wrongAuth.statusCode, 401);
  assert.equal((await app.inject({ url: '/v1/experiments/does-not-exist' })).statusCode, 404);
  assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
  assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
  const m = await metrics.registry.getSingleMetricAsString('spar_bad_input_total');
  for (const kind of ['invalid_config', 'too_large', 'malformed_body', 'unauthorized']) assert.match(m, new RegExp(`kind="${kind}"`));
});

test('schema and OpenAPI are served', async () => {
  const s = (await app.inject({ url: '/v1/schema' })).json();
  const variants = (s.anyOf ?? [s]) as { properties: { recipe: { const: string } }; required?: string[] }[];
  assert.ok(variants.some((v) => v.properties.recipe.const === 'spiral-games'));
  assert.deepEqual(variants[0]!.required, ['name', 'recipe'], 'fields with defaults are optional in the published schema');
  const openapi = (await app.inject({ url: '/docs/json' })).json();
  assert.ok(openapi.paths['/v1/experiments'].post);
  assert.equal((await app.inject({ url: '/docs/' })).statusCode, 200);
});

test('cross-field checks run at submit: model shape, estimator fields, KL reference; recipes pick their default estimator', async () => {
  const r = await post(JSON.stringify({ ...good, policy: { dModel: 30, heads: 4 }, learner: { estimator: { kind: 'grpo', decay: 0.5 }, referenceRefreshEvery: 10 } }));
  assert.equal(r.statusCode, 400);
  const paths = r.json().errors.map((e: { path: string }) => e.path);
  for (const p of ['/policy/heads', '/learner/estimator', '/learner/referenceRefreshEvery']) assert.ok(paths.some((x: string) => x.startsWith(p)), `no issue at ${p}: ${JSON.stringify(paths)}`);
  const kl = await post(JSON.stringify({ ...good, learner: { loss: { klCoef: 0.1 }, referenceRefreshEvery: 10 } }));
  assert.equal(kl.statusCode, 201, JSON.stringify(kl.json()));
  const games = (await post(JSON.stringify(good))).json();
  assert.equal(games.config.learner.estimator.kind, 'rae', 'spiral-games defaults to RAE');
  const azr = (await post(JSON.stringify({ name: 'a', recipe: 'absolute-zero' }))).json();
  assert.equal(azr.config.learner.estimator.kind, 'trr++', 'absolute-zero defaults to TRR++');
  const explicit = (await post(JSON.stringify({ ...good, learner: { estimator: { kind: 'grpo' } } }))).json();
  assert.equal(explicit.config.learner.estimator.kind, 'grpo', 'an explicit estimator wins');
});

test('Prometheus HTTP service discovery lists every registered replica with its service label; open without a token', async () => {
  const regs = await Promise.all([
    ServiceRegistration.start(conn, { service: 'solver', id: 's1', ops: '127.0.0.1:40001' }),
    ServiceRegistration.start(conn, { service: 'solver', id: 's2', ops: '127.0.0.1:40002' }),
    ServiceRegistration.start(conn, { service: 'judge', id: 'j1', ops: '127.0.0.1:40003', grpc: '127.0.0.1:40004' }),
  ]);
  const res = await app.inject({ url: '/v1/sd/prometheus' });
  assert.equal(res.statusCode, 200);
  const groups = res.json() as { targets: string[]; labels: Record<string, string> }[];
  assert.deepEqual(groups.map((g) => `${g.labels.service}@${g.targets.join()}`).sort(), ['judge@127.0.0.1:40003', 'solver@127.0.0.1:40001', 'solver@127.0.0.1:40002']);
  assert.deepEqual(groups.map((g) => g.labels.instance_id).sort(), ['j1', 's1', 's2']);
  await regs[0]!.close();
  assert.equal((await app.inject({ url: '/v1/sd/prometheus' })).json().length, 2, 'a replica that left is gone');
  await Promise.all(regs.map((r) => r.close()));
});
