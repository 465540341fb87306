import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pow2Bucket, rowBucket, stepBucket } from '../src/engine/sessions.ts';

test('rowBucket: four shapes per octave, never below n, at most 25 % padding above 8 rows', () => {
  assert.deepEqual([1, 2, 3, 5, 8].map((n) => rowBucket(n)), [1, 2, 4, 8, 8]);
  assert.deepEqual([9, 10, 11, 12, 13, 16, 17].map((n) => rowBucket(n)), [10, 10, 12, 12, 14, 16, 20]);
  assert.equal(rowBucket(721), 768);
  assert.equal(rowBucket(512), 512);
  assert.equal(rowBucket(513), 640);
  assert.equal(rowBucket(3, 16), 16, 'min applies');
  const shapes = new Set<number>();
  for (let n = 1; n <= 4096; n++) {
    const b = rowBucket(n);
    assert.ok(b >= n, `${n} -> ${b}`);
    if (n > 8) assert.ok((b - n) / b < 0.25, `${n} -> ${b} pads ${b - n}`);
    shapes.add(b);
  }
  assert.ok(shapes.size <= 4 * 12 + 4, `${shapes.size} shapes up to 4096`);
  assert.equal(pow2Bucket(721), 1024);
  assert.equal(stepBucket(15, 16, 32), 16);
});
