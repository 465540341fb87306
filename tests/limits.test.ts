import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LIMITS, formatCount, parseExperiment, ValidationError, type FieldIssue } from '@spar/core';
import { countParams, parseModelConfig } from '@spar/policy';
import { builtinRecipes, vocabularyFor } from '@spar/recipes';

const reg = builtinRecipes();
const base = { name: 'x', recipe: 'spiral-games', rollout: { maxNewTokens: 1 } };
const refused = (cfg: object, limits = DEFAULT_LIMITS): FieldIssue[] => {
  try {
    parseExperiment(cfg, reg, limits);
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    return [...err.issues];
  }
  assert.fail(`accepted ${JSON.stringify(cfg)}`);
};

test('formatCount: plain below 1e5, short exponent above', () => {
  assert.equal(formatCount(4096), '4096');
  assert.equal(formatCount(50_000_000), '5e7');
  assert.equal(formatCount(3_412_000_000), '3.41e9');
});

test('the parameter estimate is the exact count of the model the learner builds', () => {
  const policy = { layers: 3, dModel: 48, heads: 4, ffn: 100, activation: 'swiglu', positions: 'learned', context: 32 } as const;
  const config = parseExperiment({ ...base, policy }, reg);
  // embed + pos + 3 × (2 norms + 4 d² + 3 d·ffn) + final norm + head.
  const d = 48, v = vocabularyFor(reg.get('spiral-games'), config).size;
  const expected = v * d + 32 * d + 3 * (2 * d + 4 * d * d + 3 * d * 100) + d + d * v;
  assert.equal(reg.modelParams(config), expected);
  assert.equal(expected, countParams(parseModelConfig({ ...policy, vocabSize: v })));
});

test('a model too large for the service is a 400-style issue at /policy naming the estimate and the limit', () => {
  const issues = refused({ ...base, policy: { layers: 64, dModel: 8192, heads: 64, ffn: 65536 } });
  assert.deepEqual(issues, [{ path: '/policy', message: 'estimated 8.59e10 parameters exceeds the limit 5e7' }]);
  // The same config passes without limits (workers re-parsing an admitted config) and under a raised limit.
  assert.equal(parseExperiment({ ...base, policy: { layers: 64, dModel: 8192, heads: 64, ffn: 65536 } }, reg).policy.layers, 64);
});

test('context, sequences in flight, tokens per step and eval episodes are capped, each at its own path', () => {
  const issues = refused({
    ...base,
    policy: { context: 8192, dModel: 16, heads: 2 },
    rollout: { maxNewTokens: 1, groupSize: 256, concurrency: 32 },
    learner: { batchSize: 1024 },
    eval: { episodes: 50_000 },
  });
  assert.deepEqual(issues, [
    { path: '/policy/context', message: 'context 8192 exceeds the limit 4096' },
    { path: '/rollout', message: 'groupSize × concurrency = 8192 sequences in flight exceeds the limit 4096' },
    { path: '/learner/batchSize', message: 'batchSize × policy.context = 8.39e6 tokens per step exceeds the limit 1.05e6' },
    { path: '/eval/episodes', message: '50000 episodes exceeds the limit 10000' },
  ]);
  const raised = { ...DEFAULT_LIMITS, maxEvalEpisodes: 100_000 };
  assert.equal(parseExperiment({ ...base, eval: { episodes: 50_000 } }, reg, raised).eval.episodes, 50_000);
  assert.equal(refused({ ...base, eval: { episodes: 50_000 } }).length, 1);
});
