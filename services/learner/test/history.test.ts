import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepHistory } from '../src/run.ts';

test('evaluation history: the newest 200 entries, with the warm-start stage kept however long self-play runs', () => {
  type Entry = { step: number; stage?: 'warmstart' };
  const warm: Entry[] = [0, 300, 600].map((step) => ({ step, stage: 'warmstart' }));
  const self: Entry[] = Array.from({ length: 500 }, (_, i) => ({ step: (i + 1) * 25 }));
  const kept = keepHistory([...warm, ...self]);
  assert.equal(kept.length, 200);
  assert.deepEqual(kept.slice(0, 3), warm);
  assert.equal(kept.at(-1)!.step, 500 * 25);
  assert.equal(kept[3]!.step, (500 - 197 + 1) * 25, 'the oldest self-play entries go first');
  assert.deepEqual(keepHistory(self).map((e) => e.step), self.slice(-200).map((e) => e.step));
});
