import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { parseExperiment } from '@spar/core';
import { Policy } from '@spar/policy';
import { builtinRecipes, TaskRejected, modelConfigFor, vocabularyFor, type PolicyHandle } from '../src/index.ts';
import type { EpisodeRecord } from '../src/spiral/episodes.ts';

const registry = builtinRecipes();
const recipe = registry.get('spiral-games');
const config = parseExperiment({ name: 't', recipe: 'spiral-games', options: { games: ['tictactoe', 'kuhn'] }, policy: { layers: 1, dModel: 32, heads: 2, context: 32 }, rollout: { maxNewTokens: 1 } }, registry);
const vocab = vocabularyFor(recipe, config);
const policies: Policy[] = [];
after(async () => { await Promise.all(policies.map((p) => p.close())); });

async function handle(): Promise<PolicyHandle> {
  const p = await Policy.create(modelConfigFor(config, vocab), { worker: false });
  policies.push(p);
  return { vocab, get version() { return p.version; }, generate: (x, o) => p.generate(x, o), score: (s) => p.score(s) };
}

for (const game of ['tictactoe', 'kuhn'] as const) {
  test(`spiral-games ${game}: self-play rollouts replay through the engine; zero-sum rewards per seat`, async () => {
    const policy = await handle();
    const task = { game, seed: 42 };
    assert.equal(recipe.validateTask(task, config.options).valid, true);
    const eps = await recipe.rollout({ config, policy, rng: Math.random }, task, 6);
    assert.equal(eps.length, 6);
    const judged = recipe.judge(task, eps, undefined, config.options, vocab, config);
    assert.ok(judged.trajectories.length >= 6 * 2);
    for (const t of judged.trajectories) {
      assert.ok(t.segment === `${game}/player0` || t.segment === `${game}/player1`);
      assert.equal(t.sample.tokens.length - t.sample.promptLength, 1);
      assert.ok([-2, -1, 0, 1, 2].includes(t.reward));
    }
    // Zero-sum per episode: the last turn of each seat carries opposite rewards.
    const first = eps[0] as EpisodeRecord;
    const rewards = new Map<number, number>();
    judged.trajectories.slice(0, first.turns.length).forEach((t, i) => rewards.set(first.turns[i]!.player, t.reward));
    assert.equal((rewards.get(0) ?? 0) + (rewards.get(1) ?? 0), 0);
    // A tampered record (prompt edited) is rejected, not trusted.
    const bad = structuredClone(eps) as EpisodeRecord[];
    (bad[0]!.turns[0]!.sample.tokens as number[])[2] = vocab.id('x') === bad[0]!.turns[0]!.sample.tokens[2] ? vocab.id('o') : vocab.id('x');
    assert.throws(() => recipe.judge(task, bad, undefined, config.options, vocab, config), TaskRejected);
    // A truncated episode is rejected.
    const cut = structuredClone(eps) as EpisodeRecord[];
    (cut[0]!.turns as unknown[]).pop();
    assert.throws(() => recipe.judge(task, cut, undefined, config.options, vocab, config), TaskRejected);
  });
}

test('spiral-games held-out evaluation reports every suite with sane numbers', async () => {
  const policy = await handle();
  const report = await recipe.evaluate(policy, recipe.evalSuites(config.options), { episodes: 20, seed: 1 }, config.options);
  for (const suite of ['tictactoe-vs-random', 'tictactoe-vs-minimax']) {
    const r = report[suite]!;
    assert.ok(Math.abs(r.winRate! + r.drawRate! + r.lossRate! - 1) < 1e-9, suite);
  }
  assert.equal(report['tictactoe-vs-minimax']!.winRate, 0, 'nobody beats minimax');
  const k = report.kuhn!;
  assert.ok(k.exploitability! > 0 && k.exploitability! < 1.5);
  assert.ok(Number.isFinite(k.payoffVsNash));
});

test('invalid tasks are reported invalid with a reason', () => {
  for (const t of [null, { game: 'chess', seed: 1 }, { game: 'kuhn', seed: -1 }, { game: 'kuhn', seed: 1.5 }, 'x']) {
    const v = recipe.validateTask(t, config.options);
    assert.equal(v.valid, false);
    assert.ok(v.reason);
  }
});
