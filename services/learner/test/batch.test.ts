import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Trajectory } from '@spar/core';
import { estimatorBatch } from '../src/batch.ts';

const traj = (segment: string, reward: number): Trajectory => ({ segment, reward, group: segment } as unknown as Trajectory);

test('estimator inputs: stateful estimators index the recipe segment list; stateless trr++ indexes the batch', () => {
  const recipe = new Map(['deduction/proposer', 'deduction/solver', 'abduction/proposer', 'abduction/solver'].map((s, i) => [s, i]));
  const batch = [traj('abduction/solver', 1), traj('deduction/proposer', -0.5), traj('abduction/solver', 0)];
  assert.deepEqual(estimatorBatch({ kind: 'trr++' }, batch, recipe), { rewards: [1, -0.5, 0], segments: [0, 1, 0] });
  // A state slot must mean the same segment on every step, whatever the batch holds.
  assert.deepEqual(estimatorBatch({ kind: 'trr++', decay: 0.9 }, batch, recipe), { rewards: [1, -0.5, 0], segments: [3, 0, 3] });
  assert.deepEqual(estimatorBatch({ kind: 'rae' }, batch, recipe), { rewards: [1, -0.5, 0], keys: [3, 0, 3] });
});
