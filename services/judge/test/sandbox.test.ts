import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExperiment } from '@spar/core';
import { builtinRecipes } from '@spar/recipes';
import { JudgeRejectedError, JudgeSandbox, JudgeTimeoutError } from '../src/sandbox.ts';

const config = parseExperiment({ name: 's', recipe: 'spiral-games', rollout: { maxNewTokens: 1 } }, builtinRecipes());

test('the judge sandbox terminates an overrunning call, replaces the thread, and keeps serving', async () => {
  const sandbox = new JudgeSandbox(1, 10000);
  try {
    const ok = await sandbox.run<{ valid: boolean }[]>('validate', config, [{ game: 'tictactoe', seed: 1 }, { game: 'chess', seed: 1 }]);
    assert.deepEqual(ok.map((v) => v.valid), [true, false]);
    // 5000 tasks cannot be validated in 1 ms: the call is abandoned and its thread terminated.
    const many = Array.from({ length: 5000 }, (_, i) => ({ game: 'tictactoe', seed: i }));
    await assert.rejects(sandbox.run('validate', config, many, 1), JudgeTimeoutError);
    // The replacement thread serves the next call.
    const again = await sandbox.run<{ valid: boolean }[]>('validate', config, [{ game: 'tictactoe', seed: 2 }]);
    assert.equal(again[0]!.valid, true);
    // A recipe error comes back as a rejection, not a crash.
    await assert.rejects(sandbox.run('judge', config, [{ game: 'tictactoe', seed: 1 }, [{ index: 0, turns: 'garbage' }], undefined]), JudgeRejectedError);
  } finally {
    await sandbox.close();
  }
});
