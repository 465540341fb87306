import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { parseExperiment } from '@spar/core';
import { Policy } from '@spar/policy';
import { builtinRecipes, modelConfigFor, TaskRejected, vocabularyFor, type PolicyHandle } from '../src/index.ts';
import type { EpisodeRecord } from '../src/spiral/episodes.ts';

const registry = builtinRecipes();
const recipe = registry.get('spiral-games');
const policies: Policy[] = [];
after(async () => { await Promise.all(policies.map((p) => p.close())); });

function configFor(game: 'tictactoe' | 'kuhn', league: object | undefined = {}) {
  return parseExperiment({ name: 't', recipe: 'spiral-games', options: { games: [game] }, policy: { layers: 1, dModel: 32, heads: 2, context: 32 }, rollout: { maxNewTokens: 1 }, ...(league ? { league } : {}) }, registry);
}

async function handle(game: 'tictactoe' | 'kuhn', seed: number): Promise<PolicyHandle> {
  const config = configFor(game);
  const vocab = vocabularyFor(recipe, config);
  const p = await Policy.create({ ...modelConfigFor(config, vocab), seed }, { worker: false });
  policies.push(p);
  return { vocab, get version() { return p.version; }, generate: (x, o) => p.generate(x, o), score: (s) => p.score(s) };
}

test('league config: game recipes with one game only; other recipes refused with the reason', () => {
  assert.doesNotThrow(() => configFor('tictactoe'));
  assert.throws(() => parseExperiment({ name: 't', recipe: 'spiral-games', options: { games: ['tictactoe', 'kuhn'] }, league: {} }, registry), /league.*rates one game/s);
  assert.throws(() => parseExperiment({ name: 't', recipe: 'r-zero', league: {} }, registry), /r-zero plays no rated matches/);
  const c = configFor('tictactoe', { snapshotEvery: 10 });
  assert.deepEqual({ ...c.league!.gating }, { by: 'match', games: 200, margin: 0.05 });
  assert.deepEqual({ ...c.league!.opponents }, { share: 0.2, sampling: 'prioritized' });
  assert.throws(() => configFor('tictactoe', { gating: { margin: 0.6 } }), /margin/);
  // Gating by exploitability: only where the recipe computes it exactly.
  assert.equal(configFor('kuhn', { gating: { by: 'exploitability' } }).league!.gating.by, 'exploitability');
  assert.throws(() => configFor('tictactoe', { gating: { by: 'exploitability' } }), /league.*exploitability is computed exactly for kuhn only; tictactoe gates by match/s);
  assert.throws(() => configFor('kuhn', { gating: { by: 'elo' } }), /gating\/by/);
});

test('exploitability (what gating by exploitability compares): the Kuhn evaluation\'s figure, exact (the same twice), refused for TicTacToe', async () => {
  const k = configFor('kuhn').options;
  const p = await handle('kuhn', 5);
  const e = await recipe.exploitability!(p, k);
  assert.ok(e > 0 && e < 2, `exploitability ${e}`);
  assert.equal(await recipe.exploitability!(p, k), e);
  const report = await recipe.evaluate(p, ['kuhn'], { episodes: 1, seed: 1 }, k);
  assert.equal(report.kuhn!.exploitability, e);
  await assert.rejects(recipe.exploitability!(await handle('tictactoe', 5), configFor('tictactoe').options), /kuhn only/);
});

test('rated matches between anchors: minimax beats random (it can lose only from an opening already lost); the same seed plays the same games', async () => {
  const o = configFor('tictactoe').options;
  assert.deepEqual(recipe.anchors!(o), ['random', 'minimax']);
  const m = await recipe.match!('minimax', 'random', { games: 100, seed: 7 }, o);
  assert.equal(m.games, 100);
  assert.ok(m.wins > 60 && m.losses < 10, `minimax won ${m.wins}, lost ${m.losses} of 100`);
  const again = await recipe.match!('minimax', 'random', { games: 100, seed: 7 }, o);
  assert.deepEqual(again, m);
  const mirror = await recipe.match!('random', 'minimax', { games: 100, seed: 7 }, o);
  assert.ok(mirror.wins < 10 && mirror.losses > 60, `random against minimax: ${JSON.stringify(mirror)}`);
  const k = configFor('kuhn').options;
  assert.deepEqual(recipe.anchors!(k), ['random', 'nash']);
  const kn = await recipe.match!('nash', 'random', { games: 400, seed: 3 }, k);
  assert.equal(kn.draws, 0, 'a Kuhn hand is never drawn');
  assert.equal(kn.games, 400);
});

test('rated matches with a policy: greedy TicTacToe from random openings plays distinct games; a policy against itself scores about even', async () => {
  const o = configFor('tictactoe').options;
  const p = await handle('tictactoe', 11);
  const vsRandom = await recipe.match!(p, 'random', { games: 60, seed: 1 }, o);
  assert.equal(vsRandom.games, 60);
  const self = await recipe.match!(p, p, { games: 60, seed: 1 }, o);
  // Each pair shares its opening with the seats swapped: a policy against itself wins exactly as often as it loses.
  assert.equal(self.wins, self.losses);
});

test('playing a snapshot: it takes alternate seats, its moves are replayed but not trained, the group reports the learner\'s score', async () => {
  const config = configFor('tictactoe');
  const vocab = vocabularyFor(recipe, config);
  const learner = await handle('tictactoe', 1);
  const snap = await handle('tictactoe', 2);
  const task = { game: 'tictactoe', seed: 5 };
  const eps = await recipe.rollout({ config, policy: learner, rng: Math.random, opponent: { policy: snap, version: 40 } }, task, 6) as EpisodeRecord[];
  assert.deepEqual(eps.map((e) => e.opponent?.seat), [1, 0, 1, 0, 1, 0]);
  assert.ok(eps.every((e) => e.opponent?.version === 40));
  const judged = recipe.judge(task, eps, undefined, config.options, vocab, config);
  const learnerTurns = eps.reduce((n, e) => n + e.turns.filter((t) => t.player !== e.opponent!.seat).length, 0);
  assert.equal(judged.trajectories.length, learnerTurns, 'only the learning seat is trained');
  assert.equal(judged.opponent?.version, 40);
  assert.equal(judged.opponent?.games, 6);
  assert.ok(judged.opponent!.score >= 0 && judged.opponent!.score <= 1);
  assert.equal(judged.stats?.vsSnapshotScore, judged.opponent!.score);
  // A group that mixes self-play and snapshot episodes, or names two snapshots, is refused.
  const mixed = structuredClone(eps) as { opponent?: unknown }[];
  delete mixed[2]!.opponent;
  assert.throws(() => recipe.judge(task, mixed, undefined, config.options, vocab, config), TaskRejected);
  const two = structuredClone(eps) as { opponent: { version: number } }[];
  two[1]!.opponent.version = 41;
  assert.throws(() => recipe.judge(task, two, undefined, config.options, vocab, config), TaskRejected);
  // Self-play groups carry no opponent.
  const selfPlay = await recipe.rollout({ config, policy: learner, rng: Math.random }, task, 2);
  assert.equal(recipe.judge(task, selfPlay, undefined, config.options, vocab, config).opponent, undefined);
});
