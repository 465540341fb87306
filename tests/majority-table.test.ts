import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BANDS, BUCKETS, bucketOf, inBand, markdownTable, summarise, type Outcome } from '../bench/majority-table.ts';

// The pure aggregation of `npm run bench:majority` (bench/majority.ts).

test('bucketOf: every k/G lands in exactly one bucket, edges as named', () => {
  assert.equal(bucketOf(0), '[0,0.3)');
  assert.equal(bucketOf(2 / 8), '[0,0.3)');
  assert.equal(bucketOf(3 / 10), '[0.3,0.5)');
  assert.equal(bucketOf(3 / 8), '[0.3,0.5)');
  assert.equal(bucketOf(4 / 8), '[0.5,0.7]');
  assert.equal(bucketOf(7 / 10), '[0.5,0.7]');
  assert.equal(bucketOf(5 / 8), '[0.5,0.7]');
  assert.equal(bucketOf(6 / 8), '(0.7,0.9)');
  assert.equal(bucketOf(7 / 8), '(0.7,0.9)');
  assert.equal(bucketOf(9 / 10), '[0.9,1]');
  assert.equal(bucketOf(1), '[0.9,1]');
  for (const G of [1, 2, 3, 5, 8, 10, 16, 32]) {
    for (let k = 0; k <= G; k++) assert.equal(BUCKETS.filter((b) => b.has(k / G)).length, 1, `${k}/${G}`);
  }
  assert.throws(() => bucketOf(-0.1), RangeError);
  assert.throws(() => bucketOf(Number.NaN), RangeError);
});

test('bands are inclusive at both ends', () => {
  const [narrow, wide] = BANDS;
  assert.ok(inBand(3 / 10, narrow) && inBand(7 / 10, narrow) && !inBand(6 / 8, narrow));
  assert.ok(inBand(6 / 8, wide) && inBand(8 / 10, wide) && !inBand(7 / 8, wide) && !inBand(2 / 8, wide));
});

const o = (d: number, p: number, right: boolean, trueAccuracy = right ? p : 0): Outcome => ({ d, p, right, informative: Math.abs(p - 0.5) <= 0.2 + 1e-9, trueAccuracy });

test('summarise: buckets, difficulties, bands and the full table', () => {
  const outs = [
    o(1, 1, true), o(1, 1, true), o(1, 7 / 8, false), o(1, 4 / 8, true),
    o(2, 3 / 8, false), o(2, 6 / 8, true), o(2, 2 / 8, false, 1 / 8),
  ];
  const s = summarise(outs, [1, 2, 3]);
  assert.equal(s.questions, 7);
  assert.deepEqual(s.byBucket.map((c) => [c.p, c.right, c.n]), [
    ['[0,0.3)', 0, 1], ['[0.3,0.5)', 0, 1], ['[0.5,0.7]', 1, 1], ['(0.7,0.9)', 1, 2], ['[0.9,1]', 2, 2],
  ]);
  const [d1, d2, d3] = s.byDifficulty;
  assert.deepEqual({ ...d1!, bands: undefined }, {
    d: 1, n: 4, right: 3, majorityRight: 0.75, trueAccuracy: +((1 + 1 + 0 + 0.5) / 4).toFixed(4),
    informative: 1, informativeShare: 0.25, majorityRightInformative: 1, bands: undefined,
  });
  assert.equal(d2!.informative, 1);
  assert.equal(d2!.majorityRightInformative, 0);
  assert.deepEqual(d2!.bands.map((b) => [b.band, b.right, b.n]), [['[0.3,0.7]', 0, 1], ['[0.3,0.8]', 1, 2]]);
  assert.deepEqual(d3, { d: 3, n: 0, right: 0, majorityRight: null, trueAccuracy: null, informative: 0, informativeShare: null, majorityRightInformative: null, bands: [
    { band: '[0.3,0.7]', n: 0, right: 0, majorityRight: null }, { band: '[0.3,0.8]', n: 0, right: 0, majorityRight: null },
  ] });
  assert.deepEqual(s.bands.map((b) => [b.band, b.right, b.n, b.majorityRight]), [['[0.3,0.7]', 1, 2, 0.5], ['[0.3,0.8]', 2, 3, 0.6667]]);
  // difficulties × buckets, empty cells included, in order
  assert.equal(s.table.length, 3 * BUCKETS.length);
  assert.deepEqual(s.table.slice(0, 5).map((c) => `${c.d}${c.bucket}:${c.right}/${c.n}`), [
    '1[0,0.3):0/0', '1[0.3,0.5):0/0', '1[0.5,0.7]:1/1', '1(0.7,0.9):0/1', '1[0.9,1]:2/2',
  ]);
  assert.equal(s.table.reduce((a, c) => a + c.n, 0), 7);
  // without explicit difficulties: those present, sorted
  assert.deepEqual(summarise([o(4, 1, true), o(2, 1, true)]).byDifficulty.map((r) => r.d), [2, 4]);
});

test('markdownTable: a header, a row per difficulty with right/n cells, an all row', () => {
  const s = summarise([o(1, 1, true), o(1, 4 / 8, false), o(2, 2 / 8, false)], [1, 2]);
  const lines = markdownTable(s).split('\n');
  assert.equal(lines.length, 2 + 2 + 1);
  const cols = (l: string) => l.split('|').slice(1, -1).map((c) => c.trim());
  const head = cols(lines[0]!);
  assert.equal(head[0], 'ops');
  assert.deepEqual(head.slice(1, 6), BUCKETS.map((b) => `p̂ ${b.name}`));
  assert.deepEqual(cols(lines[2]!), ['1', '0/0', '0/0', '0/1', '0/0', '1/1', '1/2', '0/1', '0/1', '50 %']);
  assert.deepEqual(cols(lines[3]!), ['2', '0/1', '0/0', '0/0', '0/0', '0/0', '0/1', '0/0', '0/0', '0 %']);
  assert.deepEqual(cols(lines[4]!), ['all', '0/1', '0/0', '0/1', '0/0', '1/1', '1/3', '0/1', '0/1', '33 %']);
  for (const l of lines) assert.equal(cols(l).length, head.length);
});
