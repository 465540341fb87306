import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { keys, type ExperimentRecord } from '@spar/core';
import { startStack, type Stack } from '@spar/testing';
import { experimentsApi } from './experiments-api.ts';

// config.league on a real stack: snapshots every 4 steps, rated against the anchors and gated
// against the best; solvers play their groups against pool snapshots; the league survives a
// kill -9 of the learner (checkpointed with it); the best is exported and can seed a new experiment.
// Every group plays a snapshot once one is reachable (share 1), and the run goes 16 steps past the
// kill: steps are sub-second here, so groups made while the learner was down (self-play: no
// snapshot to fetch) can feed several steps after the restart, and a shorter run or a smaller
// share left CI with no pool game at all.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const tiny = (name: string, extra: object) => ({
  name, recipe: 'spiral-games', options: { games: ['tictactoe'] },
  policy: { layers: 1, dModel: 16, heads: 2, context: 24, seed: 4 },
  rollout: { groupSize: 4, maxNewTokens: 1, concurrency: 2, maxQueuedTasks: 4 },
  learner: { batchSize: 24, maxStaleness: 4, checkpointEvery: 4 },
  eval: { every: 0, episodes: 10 },
  ...extra,
});

let stack: Stack;
let redis: Redis;
let api: ReturnType<typeof experimentsApi>;
before(async () => {
  stack = await startStack(ROOT, { env: { learner: { SPAR_LEASE_MS: '2000', SPAR_POLL_MS: '100' } } });
  redis = new Redis(stack.redis.url);
  api = experimentsApi(stack);
});
after(async () => {
  redis?.disconnect();
  await stack?.stop();
});

let leagueId = '';

test('league: snapshots rated and gated (the best\'s rating never falls), opponents from the pool, kept across a learner kill -9, best exported', async () => {
  leagueId = await api.submit(tiny('league', {
    league: { snapshotEvery: 4, keep: 2, gating: { games: 20 }, opponents: { share: 1, sampling: 'prioritized' } },
    budget: { maxSteps: 24, maxMinutes: 8 },
  }));
  const mid = await api.until(leagueId, (r) => (r.league?.gates.length ?? 0) >= 2, 240000);
  assert.ok(mid.league!.gates[0]!.promoted, 'the first snapshot becomes the best');
  await stack.kill('learner', 'SIGKILL');
  await stack.restart('learner');
  const done = await api.finished(leagueId, 300000);
  assert.equal(done.state, 'completed', `ended ${done.state}: ${done.reason ?? ''}`);
  assert.equal(done.step, 24);
  const league = done.league!;
  // One gate per snapshot step: the resumed learner continued the league its checkpoint held.
  assert.deepEqual(league.gates.map((g) => g.step), [4, 8, 12, 16, 20, 24]);
  assert.deepEqual(league.ratings.filter((r) => r.anchor).map((r) => r.player), ['random', 'minimax']);
  assert.equal(league.ratings[0]!.rating, 0);
  assert.ok(league.ratings[1]!.rating > 0, 'minimax is rated above random');
  for (const g of league.gates) {
    assert.equal(g.games, g === league.gates[0] ? 0 : 20);
    assert.ok(Number.isFinite(g.rating));
  }
  for (let i = 1; i < league.gates.length; i++) {
    const [prev, g] = [league.gates[i - 1]!, league.gates[i]!];
    assert.ok(g.bestRating >= prev.bestRating, `best rating fell at step ${g.step}`);
    if (g.promoted) {
      assert.equal(g.bestRating, g.rating);
      assert.ok(g.score >= 0.55 && g.eval, 'promoted only past the margin, evaluated when promoted');
    } else assert.equal(g.bestRating, prev.bestRating);
  }
  assert.equal(league.latest!.step, 24);
  assert.ok(league.best!.version <= league.latest!.version);
  assert.equal(league.best!.rating, league.gates.at(-1)!.bestRating);
  assert.ok(done.artifacts?.bestOnnx && existsSync(done.artifacts.bestOnnx), 'the best policy is exported');
  assert.equal(done.artifacts.bestVersion, String(league.best!.version));
  // Solvers played pool snapshots; the judges recorded the learning side's results per snapshot.
  const results = await redis.hgetall(keys.poolResults(leagueId));
  const games = Object.entries(results).filter(([k]) => k.endsWith(':games')).reduce((s, [, v]) => s + Number(v), 0);
  assert.ok(games > 0, `games against snapshots: ${JSON.stringify(results)}`);
  // The restarted learner exports the ratings of the gates it ran; the solver counts its pool games.
  const learnerMetrics = await (await fetch(`http://127.0.0.1:${stack.ports.metrics.learner}/metrics`)).text();
  assert.match(learnerMetrics, new RegExp(`spar_league_rating\\{experiment="${leagueId}",policy="best"[^}]*\\} ${league.best!.rating}`));
  assert.match(learnerMetrics, /spar_league_gates_total\{experiment="[^"]+",result="(promoted|kept)"[^}]*\} \d/);
  const solverMetrics = await (await fetch(`http://127.0.0.1:${stack.ports.metrics.solver}/metrics`)).text();
  assert.match(solverMetrics, new RegExp(`spar_opponent_games_total\\{experiment="${leagueId}",sampling="prioritized"[^}]*\\} [1-9]`));
  // The ratings endpoint serves the record's league.
  const ratings = await (await fetch(`${stack.baseUrl}/v1/experiments/${leagueId}/ratings`)).json() as { best: unknown; gates: unknown[] };
  assert.deepEqual(ratings.best, league.best);
  assert.equal(ratings.gates.length, 6);
  const pool = JSON.parse((await redis.hget(keys.policy(leagueId), 'pool')) ?? '[]') as { version: number }[];
  assert.ok(pool.length >= 1 && pool.length <= 3, `pool of the newest 2 and the best: ${JSON.stringify(pool)}`);
});

test('league: a new experiment starts from an earlier experiment\'s best; policy: best is refused for one without a league', async () => {
  assert.ok(leagueId, 'needs the league experiment');
  const id = await api.submit(tiny('from best', { warmStart: { from: 'experiment', id: leagueId, policy: 'best' }, budget: { maxSteps: 2, maxMinutes: 5 } }));
  const done: ExperimentRecord = await api.finished(id, 240000);
  assert.equal(done.state, 'completed', `ended ${done.state}: ${done.reason ?? ''}`);
  assert.match(done.warmStart?.source ?? '', /export-best/);
  const r = await fetch(`${stack.baseUrl}/v1/experiments`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify(tiny('bad best', { warmStart: { from: 'experiment', id, policy: 'best' }, budget: { maxSteps: 2, maxMinutes: 5 } })),
  });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /warmStart\/policy.*ran no league/);
});

test('league gated by exploitability (Kuhn): a snapshot becomes the best only with an exploitability below the best\'s; the best\'s never rises', async () => {
  const id = await api.submit({
    ...tiny('kuhn league', {
      league: { snapshotEvery: 3, keep: 2, gating: { by: 'exploitability', games: 20 }, opponents: { share: 0 } },
      budget: { maxSteps: 12, maxMinutes: 5 },
    }),
    options: { games: ['kuhn'] },
  });
  const done = await api.finished(id, 240000);
  assert.equal(done.state, 'completed', `ended ${done.state}: ${done.reason ?? ''}`);
  const { gates, best } = done.league!;
  assert.deepEqual(gates.map((g) => g.step), [3, 6, 9, 12]);
  assert.deepEqual(done.league!.ratings.filter((r) => r.anchor).map((r) => r.player), ['random', 'nash']);
  let bestSoFar = Infinity;
  for (const g of gates) {
    assert.ok(typeof g.exploitability === 'number' && g.exploitability > 0, `gate at ${g.step}: ${JSON.stringify(g)}`);
    assert.equal(g.promoted, g.exploitability < bestSoFar, `gate at ${g.step}: promoted iff below the best's ${bestSoFar}`);
    bestSoFar = Math.min(bestSoFar, g.exploitability);
    assert.equal(g.bestExploitability, bestSoFar);
    // The promotion's evaluation is exact: it measures the same exploitability the gate compared.
    if (g.promoted) assert.equal(g.eval!.kuhn!.exploitability, g.exploitability);
  }
  assert.equal(best!.exploitability, bestSoFar);
  assert.equal(best!.version, gates.filter((g) => g.promoted).at(-1)!.version);
  const learnerMetrics = await (await fetch(`http://127.0.0.1:${stack.ports.metrics.learner}/metrics`)).text();
  assert.match(learnerMetrics, new RegExp(`spar_league_exploitability\\{experiment="${id}",policy="best"[^}]*\\} ${bestSoFar}`));
});
