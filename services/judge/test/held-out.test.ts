import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExperiment, type ExperimentConfig } from '@spar/core';
import { builtinRecipes, isHeldOutReason } from '@spar/recipes';
import { heldOutSet } from '@spar/recipes/dsl';
import { toWire } from '@spar/recipes/azr';
import { JudgeSandbox } from '../src/sandbox.ts';

const registry = builtinRecipes();
type Verdict = { valid: boolean; reason?: string };

test('the sandbox refuses held-out tasks at validation (reason held_out) and never judges one', async () => {
  const config = parseExperiment({ name: 'h', recipe: 'rlvr-fixed', policy: { context: 128 }, eval: { episodes: 30, seed: 5 } }, registry) as ExperimentConfig<any>;
  const recipe = registry.get('rlvr-fixed');
  const held = heldOutSet(5, 10).map(toWire).filter((w) => recipe.validateTask(w, config.options).valid);
  // A training-side task: a held-out task of another eval seed that this eval does not pose.
  const fresh = heldOutSet(6, 10).map(toWire).find((w) => recipe.validateTask(w, config.options).valid && !recipe.heldOut!(config).has(w))!;
  assert.ok(held.length > 5 && fresh);
  const sandbox = new JudgeSandbox({ threads: 1, timeoutMs: 20000, maxHeapMb: 256, maxQueued: 16 });
  try {
    const verdicts = await sandbox.run<Verdict[]>('validate', config, [...held, fresh]);
    for (const v of verdicts.slice(0, -1)) {
      assert.equal(v.valid, false);
      assert.ok(isHeldOutReason(v.reason), v.reason);
    }
    assert.equal(verdicts.at(-1)!.valid, true);
    // A held-out task that reached group judging is answered { heldOut: true } (the judge drops it).
    const judged = await sandbox.run<{ heldOut?: boolean }>('judge', config, [held[0], [], undefined]);
    assert.deepEqual(judged, { heldOut: true });
    // With another eval seed the same task is an ordinary training task.
    const other = { ...config, eval: { ...config.eval, seed: 9 } };
    const again = await sandbox.run<Verdict[]>('validate', other, [held[0]]);
    assert.equal(again[0]!.valid, !recipe.heldOut!(other).has(held[0]));
  } finally {
    await sandbox.close();
  }
});
