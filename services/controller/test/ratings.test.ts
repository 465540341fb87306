import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LeagueState } from '@spar/core';
import { builtinRecipes } from '@spar/recipes';
import { closeRedis, createLogger, ExperimentStore, Metrics, type Redis } from '@spar/service-kit';
import { RedisServer } from '@spar/testing';
import { connectApiRedis, redisChecks } from '../src/api-redis.ts';
import { buildApp } from '../src/app.ts';
import { auth, good, TOKEN } from './fixture.ts';

let redis: RedisServer;
let conn: Redis;
let store: ExperimentStore;
let app: Awaited<ReturnType<typeof buildApp>>;

before(async () => {
  redis = await RedisServer.start();
  conn = connectApiRedis(redis.url, createLogger('controller', 'error'));
  store = new ExperimentStore(conn);
  app = await buildApp({
    store, recipes: builtinRecipes(), metrics: new Metrics('controller', false), logger: createLogger('controller', 'error'),
    bodyLimit: 262144, apiToken: TOKEN, ...redisChecks(conn),
  });
});
after(async () => {
  await app?.close();
  await closeRedis(conn);
  await redis?.stop();
});

const submit = async () => {
  const r = await app.inject({ method: 'POST', url: '/v1/experiments', payload: JSON.stringify(good), headers: { 'content-type': 'application/json', ...auth } });
  assert.equal(r.statusCode, 201);
  return r.json().id as string;
};

const league: LeagueState = {
  best: { version: 3, step: 8, rating: 120, eval: { tictactoe: { winRate: 0.8 } } },
  latest: { version: 5, step: 12, rating: 110 },
  ratings: [
    { player: 'random', anchor: true, rating: 0, games: 400 },
    { player: 'minimax', anchor: true, rating: 300, games: 400 },
    { player: 'v3', version: 3, step: 8, rating: 120, games: 60 },
    { player: 'v5', version: 5, step: 12, rating: 110, games: 60 },
  ],
  gates: [
    { step: 4, at: '2025-01-01T00:00:00.000Z', version: 1, score: 0, games: 0, rating: 40, promoted: true, bestRating: 40 },
    { step: 8, at: '2025-01-01T00:01:00.000Z', version: 3, score: 0.7, games: 20, rating: 120, promoted: true, bestRating: 120 },
    { step: 12, at: '2025-01-01T00:02:00.000Z', version: 5, score: 0.45, games: 20, rating: 110, promoted: false, bestRating: 120 },
  ],
};

test('ratings: best, latest, ratings and gates from the record\'s league', async () => {
  const id = await submit();
  await store.update(id, (r) => ({ ...r, league }));
  const res = await app.inject({ url: `/v1/experiments/${id}/ratings` });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { experimentId: id, best: league.best, latest: league.latest, ratings: league.ratings, gates: league.gates });
});

test('ratings: empty for an experiment without a league; 404 for an unknown one; listed in the OpenAPI docs', async () => {
  const id = await submit();
  const res = await app.inject({ url: `/v1/experiments/${id}/ratings` });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { experimentId: id, ratings: [], gates: [] });
  const missing = await app.inject({ url: '/v1/experiments/does-not-exist/ratings' });
  assert.equal(missing.statusCode, 404);
  const get = await app.inject({ url: '/v1/experiments/does-not-exist' });
  assert.deepEqual(missing.json(), get.json(), 'the same problem as GET /v1/experiments/:id');
  assert.match(missing.headers['content-type'] as string, /application\/problem\+json/);
  const openapi = (await app.inject({ url: '/docs/json' })).json();
  const op = openapi.paths['/v1/experiments/{id}/ratings']?.get;
  assert.ok(op, 'the ratings route is in the OpenAPI document');
  assert.match(op.summary, /empty for an experiment without a league/);
  assert.deepEqual(op.tags, ['experiments']);
});

test('ratings: 503 at once while Redis is unreachable, like the other experiment routes', async () => {
  const down = await buildApp({
    store, recipes: builtinRecipes(), metrics: new Metrics('controller', false), logger: createLogger('controller', 'error'),
    bodyLimit: 262144, apiToken: TOKEN, ready: async () => false, available: async () => false,
  });
  try {
    const res = await down.inject({ url: '/v1/experiments/any/ratings' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '1');
  } finally {
    await down.close();
  }
});
