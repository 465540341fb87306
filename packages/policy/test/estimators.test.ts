import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ConfigError, NonFiniteError, ShapeError } from '../src/errors.ts';
import { serialize } from '../src/graph/index.ts';
import { createSession, runSession } from '../src/runtime/session.ts';
import {
  AdvantageEstimator, referenceAdvantages, type EstimatorBatch, type EstimatorResult, type EstimatorSpec,
} from '../src/estimators/index.ts';
import { feeds } from '../src/estimators/estimator.ts';
import { buildGroupedGraph, buildRaeGraph, buildRunningWhitenGraph } from '../src/estimators/graphs.ts';
import { prepareBatch } from '../src/estimators/batch.ts';
import { isStateful, resolveSpec } from '../src/estimators/spec.ts';
import { rng } from './gradcheck.ts';

const TOL = 1e-5;
const RUNTIME = { threads: 1, spinning: false } as const;

const estimators = new Map<string, AdvantageEstimator>();
/** One estimator per spec for the whole file, so sessions are compiled once per bucket. */
async function estimator(spec: EstimatorSpec): Promise<AdvantageEstimator> {
  const key = JSON.stringify(spec);
  let e = estimators.get(key);
  if (!e) estimators.set(key, (e = await AdvantageEstimator.create(spec, RUNTIME)));
  return e;
}
after(async () => { for (const e of estimators.values()) await e.close(); });

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    assert.ok(Math.abs(a - b) <= TOL * Math.max(1, Math.abs(b)), `${what}[${i}]: ${a} vs ${b}`);
  }
}

function assertSame(got: EstimatorResult, want: EstimatorResult, what: string): void {
  assertClose(got.advantages, want.advantages, `${what} advantages`);
  assert.deepEqual([...got.keep], [...want.keep], `${what} keep`);
  assert.equal(got.zeroVarianceGroups, want.zeroVarianceGroups, `${what} zeroVarianceGroups`);
  if (want.state) assertClose(got.state!, want.state, `${what} state`);
}

async function check(spec: EstimatorSpec, batch: EstimatorBatch, what: string, state?: Float32Array): Promise<EstimatorResult> {
  const got = await (await estimator(spec)).compute(batch, state);
  assertSame(got, referenceAdvantages(spec, batch, state), what);
  return got;
}

/**
 * Rows in shuffled order with arbitrary, sparse group ids; group sizes 1..6 (singletons
 * included); about a quarter of the groups constant (zero variance); rewards binary or uniform.
 */
function groupedBatch(seed: number, groups: number): { rewards: number[]; ids: number[] } {
  const u = rng(seed);
  const rows: [number, number][] = [];
  for (let g = 0; g < groups; g++) {
    const id = 1000 + 7 * g + Math.floor(u() * 5);
    const n = 1 + Math.floor(u() * 6);
    const kind = u();
    const c = u() < 0.5 ? 1 : 0.25;
    for (let j = 0; j < n; j++) rows.push([id, kind < 0.25 ? c : kind < 0.6 ? (u() < 0.5 ? 1 : 0) : 2 * u() - 1]);
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return { rewards: rows.map((r) => r[1]), ids: rows.map((r) => r[0]) };
}

test('grpo / drgrpo / rloo match the float64 reference (seeds, zero and drop rules)', async () => {
  for (const kind of ['grpo', 'drgrpo', 'rloo'] as const) {
    for (const zeroVariance of ['zero', 'drop'] as const) {
      for (const [seed, groups] of [[1, 3], [2, 11], [3, 25], [4, 40]] as const) {
        const { rewards, ids } = groupedBatch(seed * 31 + groups, groups);
        const got = await check({ kind, zeroVariance }, { rewards, groups: ids }, `${kind}/${zeroVariance}/seed${seed}`);
        if (zeroVariance === 'zero') assert.ok(got.keep.every((k) => k === 1));
      }
    }
  }
});

test('grouped estimators: hand-computed values, singletons and constant groups', async () => {
  const batch = { rewards: [1, 0, 0.5, 1, 1, 0.3, 2], groups: [0, 0, 0, 4, 4, 2, 9] };
  const grpo = await (await estimator({ kind: 'grpo', zeroVariance: 'drop' })).compute(batch);
  // group 0: mean 0.5, unbiased std 0.5; groups 4 (constant), 2 and 9 (singletons) are zero-variance
  assertClose(grpo.advantages, [0.5 / 0.500001, -0.5 / 0.500001, 0, 0, 0, 0, 0], 'grpo');
  assert.deepEqual([...grpo.keep], [1, 1, 1, 0, 0, 0, 0]);
  assert.equal(grpo.zeroVarianceGroups, 3);
  const drgrpo = await (await estimator({ kind: 'drgrpo' })).compute(batch);
  assertClose(drgrpo.advantages, [0.5, -0.5, 0, 0, 0, 0, 0], 'drgrpo');
  assert.deepEqual([...drgrpo.keep], [1, 1, 1, 1, 1, 1, 1]);
  const rloo = await (await estimator({ kind: 'rloo' })).compute(batch);
  assertClose(rloo.advantages, [1 - 0.25, 0 - 0.75, 0.5 - 0.5, 0, 0, 0, 0], 'rloo');
  assert.equal(rloo.zeroVarianceGroups, 3);
  const eps = await (await estimator({ kind: 'grpo', eps: 0 })).compute({ rewards: [3, 3, 1, 2], groups: [5, 5, 6, 6] });
  assertClose(eps.advantages, [0, 0, -0.5 / Math.SQRT1_2, 0.5 / Math.SQRT1_2], 'grpo eps=0');
});

test('reinforce++ normalises over the whole batch with sequence-weighted statistics', async () => {
  const r = [1, 0, 0, 1, 0.5, -1];
  const mu = r.reduce((a, x) => a + x, 0) / r.length;
  const v = r.reduce((a, x) => a + (x - mu) ** 2, 0) / (r.length - 1);
  const got = await (await estimator({ kind: 'reinforce++' })).compute({ rewards: r });
  assertClose(got.advantages, r.map((x) => (x - mu) / Math.sqrt(v + 1e-8)), 'reinforce++');
  assert.equal(got.zeroVarianceGroups, 0);
  for (const zeroVariance of ['zero', 'drop'] as const) {
    for (const seed of [5, 6, 7]) {
      const { rewards } = groupedBatch(seed, 4 + seed * 3);
      await check({ kind: 'reinforce++', zeroVariance }, { rewards }, `reinforce++/${zeroVariance}/${seed}`);
    }
    const constant = await check({ kind: 'reinforce++', zeroVariance }, { rewards: [0.5, 0.5, 0.5] }, 'constant batch');
    assert.equal(constant.zeroVarianceGroups, 1);
    assert.deepEqual([...constant.keep], zeroVariance === 'drop' ? [0, 0, 0] : [1, 1, 1]);
    const single = await check({ kind: 'reinforce++', zeroVariance }, { rewards: [2] }, 'one row');
    assert.equal(single.zeroVarianceGroups, 1);
  }
});

test('trr++ normalises per segment, several segments', async () => {
  for (const zeroVariance of ['zero', 'drop'] as const) {
    for (const seed of [11, 12, 13]) {
      const { rewards, ids } = groupedBatch(seed, 6 + seed % 3);
      const got = await check({ kind: 'trr++', zeroVariance }, { rewards, segments: ids }, `trr++/${zeroVariance}/${seed}`);
      assert.ok(got.zeroVarianceGroups >= 0);
    }
  }
  // Segment 3 normalised alone: its advantages do not depend on segment 8's rewards.
  const a = await (await estimator({ kind: 'trr++' })).compute({ rewards: [1, -1, 0, 5, 7], segments: [3, 3, 3, 8, 8] });
  const b = await (await estimator({ kind: 'trr++' })).compute({ rewards: [1, -1, 0, 50, -70], segments: [3, 3, 3, 8, 8] });
  assertClose(a.advantages.subarray(0, 3), [1 / Math.sqrt(1 + 1e-8), -1 / Math.sqrt(1 + 1e-8), 0], 'trr++ segment 3');
  assertClose(b.advantages.subarray(0, 3), a.advantages.subarray(0, 3), 'segment independence');
});

test('trr++ with decay: running segment statistics match the reference over consecutive steps', async () => {
  for (const zeroVariance of ['zero', 'drop'] as const) {
    for (const seed of [31, 32, 33]) {
      const u = rng(seed);
      const spec: EstimatorSpec = { kind: 'trr++', zeroVariance, decay: 0.5 + 0.45 * u(), numKeys: 5 };
      let stateGraph: Float32Array | undefined;
      let stateRef: Float32Array | undefined;
      for (const step of [0, 1, 2, 3]) {
        const rows = 1 + Math.floor(u() * 70);
        // Segment 3 only in even steps, slot 4 never: absent segments must only decay.
        const segments = Array.from({ length: rows }, () => Math.floor(u() * (step % 2 ? 3 : 4)));
        const style = segments.map(() => u());
        const rewards = segments.map((k, i) => (k === 2 ? -0.5 : style[i]! < 0.5 ? (u() < 0.5 ? 1 : 0) : 2 * u() - 1));
        const got = await (await estimator(spec)).compute({ rewards, segments }, stateGraph);
        const want = referenceAdvantages(spec, { rewards, segments }, stateRef);
        assertSame(got, want, `trr++ decay ${zeroVariance} seed ${seed} step ${step}`);
        stateGraph = got.state;
        stateRef = want.state;
      }
      assert.deepEqual([...stateGraph!.subarray(4, 5)], [0], 'slot 4 never used: W stays 0');
    }
  }
});

test('trr++ with decay: one batch from zero state is biased whitening; history breaks ties', async () => {
  const spec: EstimatorSpec = { kind: 'trr++', decay: 0.9, numKeys: 2 };
  const e = await estimator(spec);
  assert.deepEqual([...e.initialState()], [0, 0, 0, 0, 0, 0]);
  // Step 1, segment 0 = [1, 0, 1, 0]: mu 0.5, biased var 0.25 (stateless trr++ divides by n - 1).
  const first = await e.compute({ rewards: [1, 0, 1, 0, 3], segments: [0, 0, 0, 0, 1] });
  const a = 0.5 / Math.sqrt(0.25 + 1e-8);
  assertClose(first.advantages, [a, -a, a, -a, 0], 'step 1');
  assert.equal(first.zeroVarianceGroups, 1, 'segment 1: one row and no history');
  assertClose(first.state!, [4, 1, 2, 3, 2, 9], 'state after step 1: (W, S1, S2) planes');
  // Step 2: segment 0 is all -0.5. Alone in its batch that is zero variance (stateless trr++
  // gives the proposer no signal); with the history it is below the running mean.
  const batch = { rewards: [-0.5, -0.5, -0.5, -0.5], segments: [0, 0, 0, 0] };
  const stateless = await (await estimator({ kind: 'trr++' })).compute(batch);
  assert.deepEqual([...stateless.advantages], [0, 0, 0, 0]);
  const second = await e.compute(batch, first.state);
  const W = 0.9 * 4 + 4;
  const mu = (0.9 * 2 - 2) / W;
  const v = (0.9 * 2 + 1) / W - mu * mu;
  const want = (-0.5 - mu) / Math.sqrt(v + 1e-8);
  assert.ok(want < -0.5);
  assertClose(second.advantages, [want, want, want, want], 'step 2');
  assert.equal(second.zeroVarianceGroups, 0);
  // Segment 1 had no rows: its sums only decay.
  assertClose(second.state!, [W, 0.9, 0.9 * 2 - 2, 0.9 * 3, 0.9 * 2 + 1, 0.9 * 9], 'state after step 2');
  assertSame(second, referenceAdvantages(spec, batch, first.state), 'step 2 vs reference');
  // An empty batch is a step too: everything decays.
  const empty = await e.compute({ rewards: [], segments: [] }, second.state);
  assert.equal(empty.advantages.length, 0);
  assertClose(empty.state!, [...second.state!].map((x) => 0.9 * x), 'empty batch decays');
  assertSame(empty, referenceAdvantages(spec, { rewards: [], segments: [] }, second.state), 'empty vs reference');
});

test('trr++ with decay: zero-variance segments (constant history and batch) under zero and drop', async () => {
  // Slot 0 has seen only 1s, slot 1 a mix; both get a batch of 1s.
  const state = Float32Array.from([5, 5, 5, 3, 5, 5]);
  const batch = { rewards: [1, 1, 1, 1, 1], segments: [0, 0, 1, 1, 1] };
  for (const zeroVariance of ['zero', 'drop'] as const) {
    const got = await check({ kind: 'trr++', zeroVariance, decay: 0.8, numKeys: 2 }, batch, `constant ${zeroVariance}`, state);
    assert.equal(got.zeroVarianceGroups, 1);
    assert.deepEqual([...got.advantages.subarray(0, 2)], [0, 0]);
    assert.ok(got.advantages.subarray(2).every((x) => x > 0), 'slot 1: 1 is above its running mean');
    assert.deepEqual([...got.keep], zeroVariance === 'drop' ? [0, 0, 1, 1, 1] : [1, 1, 1, 1, 1]);
  }
  // A reward float32 cannot hold exactly: the decayed sums round, var is noise below the threshold.
  const spec: EstimatorSpec = { kind: 'trr++', zeroVariance: 'drop', decay: 0.9, numKeys: 1 };
  let s: Float32Array | undefined;
  for (let step = 0; step < 30; step++) {
    const n = 1 + (step * 7) % 13;
    const got = await check(spec, { rewards: new Array(n).fill(-0.7), segments: new Array(n).fill(0) }, `-0.7 step ${step}`, s);
    assert.equal(got.zeroVarianceGroups, 1);
    assert.ok(got.keep.every((k) => k === 0) && got.advantages.every((a) => a === 0), `step ${step}`);
    s = got.state;
  }
});

test('trr++ without decay is the stateless per-batch estimator, unchanged', async () => {
  const spec = resolveSpec({ kind: 'trr++' });
  assert.equal(isStateful(spec), false);
  assert.equal(spec.decay, 0);
  assert.equal(spec.numKeys, 0);
  assert.equal(isStateful(resolveSpec({ kind: 'trr++', decay: 0.9 })), true);
  assert.equal(resolveSpec({ kind: 'trr++', decay: 0.9 }).numKeys, 2);
  const e = await estimator({ kind: 'trr++', zeroVariance: 'drop' });
  assert.equal(e.initialState().length, 0);
  const { rewards, ids } = groupedBatch(77, 9);
  const got = await e.compute({ rewards, segments: ids });
  assert.equal(got.state, undefined);
  // Bit for bit what the per-batch whitening graph gives.
  const b = prepareBatch(spec, { rewards, segments: ids });
  const rows = 64;
  const session = await createSession(serialize(buildGroupedGraph({ mode: 'whiten', eps: 1e-8, drop: true, rows, groups: 16 })), RUNTIME);
  try {
    const out = await runSession(session, feeds(b, rows, 16));
    assert.deepEqual(got.advantages, (out.advantages!.data as Float32Array).slice(0, b.rows));
    assert.deepEqual([...got.keep], [...out.keep!.data].slice(0, b.rows).map((k) => (k ? 1 : 0)));
  } finally {
    await session.release();
  }
  await assert.rejects(e.compute({ rewards, segments: ids }, new Float32Array(6)), (err: unknown) => err instanceof ShapeError && err.field === 'state');
});

test('rae: sequential per-key EMA, state carried across calls', async () => {
  const e = await estimator({ kind: 'rae' });
  const first = await e.compute({ rewards: [1, 1], keys: [0, 0] });
  // b0 = 0: A = [1 - 0, 1 - 0.05]; b = 0.95 * 0.05 + 0.05 = 0.0975
  assertClose(first.advantages, [1, 0.95], 'rae by hand');
  assertClose(first.state!, [0.0975, 0], 'rae state by hand');
  assert.deepEqual([...first.keep], [1, 1]);

  for (const seed of [21, 22, 23]) {
    const u = rng(seed);
    const spec: EstimatorSpec = { kind: 'rae', numKeys: 5, decay: 0.8 + 0.15 * u() };
    let stateGraph: Float32Array | undefined;
    let stateRef: Float32Array | undefined;
    for (const call of [0, 1]) {
      const rows = 3 + Math.floor(u() * 60);
      const batch = {
        rewards: Array.from({ length: rows }, () => (u() < 0.3 ? -1.5 : 2 * u() - 1)),
        keys: Array.from({ length: rows }, () => Math.floor(u() * 4)), // key 4 never used: it keeps its baseline
      };
      const got = await (await estimator(spec)).compute(batch, stateGraph);
      const want = referenceAdvantages(spec, batch, stateRef);
      assertSame(got, want, `rae seed ${seed} call ${call}`);
      // One call per row gives the same result: the in-batch semantics are sequential.
      let s = stateRef;
      const rowByRow = batch.rewards.map((r, i) => {
        const one = referenceAdvantages(spec, { rewards: [r], keys: [batch.keys[i]!] }, s);
        s = one.state;
        return one.advantages[0]!;
      });
      assertClose(want.advantages, rowByRow, 'row by row');
      assertClose(want.state!, s!, 'row by row state');
      stateGraph = got.state;
      stateRef = want.state;
    }
  }
});

test('rae: long runs of one key stay accurate in float32', async () => {
  const spec: EstimatorSpec = { kind: 'rae', numKeys: 2 };
  const u = rng(99);
  const rewards = Array.from({ length: 300 }, () => (u() < 0.5 ? 1 : -1));
  const keys = rewards.map((_, i) => (i < 250 ? 0 : 1));
  await check(spec, { rewards, keys }, 'rae long', Float32Array.from([0.7, -0.2]));
});

test('bucket padding: odd batch sizes give the reference results', async () => {
  for (const rows of [1, 3, 7, 9, 13, 17, 33]) {
    const u = rng(rows);
    const rewards = Array.from({ length: rows }, () => Math.round(4 * u()) / 4);
    const ids = Array.from({ length: rows }, (_, i) => Math.floor(i / 3));
    await check({ kind: 'grpo', zeroVariance: 'drop' }, { rewards, groups: ids }, `grpo rows=${rows}`);
    await check({ kind: 'rloo' }, { rewards, groups: ids }, `rloo rows=${rows}`);
    await check({ kind: 'reinforce++' }, { rewards }, `reinforce++ rows=${rows}`);
    await check({ kind: 'trr++', zeroVariance: 'drop' }, { rewards, segments: ids.map((i) => i % 3) }, `trr++ rows=${rows}`);
    await check({ kind: 'rae', numKeys: 3 }, { rewards, keys: ids.map((i) => i % 3) }, `rae rows=${rows}`, Float32Array.from([0.5, 0, -1]));
    await check({ kind: 'trr++', decay: 0.9, numKeys: 3 }, { rewards, segments: ids.map((i) => i % 3) }, `trr++ decay rows=${rows}`, Float32Array.from([2, 0, 1, 0.5, 0, -1, 1.5, 0, 1.25]));
  }
});

test('padded rows cannot affect results, whatever they hold', async () => {
  const cases = [
    { spec: { kind: 'grpo', zeroVariance: 'drop' } as const, batch: { rewards: [1, 0, 1, 1, 0.25], groups: [0, 0, 1, 1, 2] } },
    { spec: { kind: 'trr++' } as const, batch: { rewards: [1, 0, 1, 3, 0.25], segments: [0, 0, 1, 1, 1] } },
    { spec: { kind: 'rae', numKeys: 2 } as const, batch: { rewards: [1, 0, 1, 3, 0.25], keys: [0, 0, 1, 1, 0] } },
    { spec: { kind: 'trr++', decay: 0.8, numKeys: 3, zeroVariance: 'drop' } as const, batch: { rewards: [1, 0, 1, 1, 0.25], segments: [0, 0, 1, 1, 0] } },
  ];
  const states = { rae: Float32Array.from([0.3, -0.4]), 'trr++': Float32Array.from([3, 1, 0, 1, 0.5, 0, 2, 0.5, 0]) };
  for (const { spec, batch } of cases) {
    const s = resolveSpec(spec);
    const b = prepareBatch(s, batch, isStateful(s) ? states[s.kind as keyof typeof states] : undefined);
    const rows = 16;
    const members = isStateful(s) ? s.numKeys : 4;
    const graph = s.kind === 'rae'
      ? buildRaeGraph({ decay: s.decay, rows, keys: members })
      : isStateful(s)
        ? buildRunningWhitenGraph({ decay: s.decay, eps: s.eps, drop: s.zeroVariance === 'drop', rows, keys: members })
        : buildGroupedGraph({ mode: s.kind === 'grpo' ? 'grpo' : 'whiten', eps: s.eps, drop: s.zeroVariance === 'drop', rows, groups: members });
    const session = await createSession(serialize(graph), RUNTIME);
    try {
      const clean = feeds(b, rows, members);
      const dirty = feeds(b, rows, members);
      const u = rng(5);
      for (let i = b.rows; i < rows; i++) {
        (dirty.rewards!.data as Float32Array)[i] = 1e3 * (u() - 0.5);
        if (dirty.key) (dirty.key.data as BigInt64Array)[i] = BigInt(Math.floor(u() * members));
        else (dirty.member!.data as Float32Array)[i * members + Math.floor(u() * members)] = 1;
      }
      const x = await runSession(session, clean);
      const y = await runSession(session, dirty);
      for (const name of Object.keys(x)) {
        const xs = [...x[name]!.data].map((v) => Number(v) + 0); // -0 -> 0
        const ys = [...y[name]!.data].map((v) => Number(v) + 0);
        const n = name === 'advantages' || name === 'keep' ? b.rows : xs.length;
        assert.deepEqual(ys.slice(0, n), xs.slice(0, n), `${s.kind} ${name}`);
        if (name === 'advantages') assert.deepEqual(ys.slice(n), new Array(rows - n).fill(0), 'padded advantages are 0');
      }
    } finally {
      await session.release();
    }
  }
});

test('bad inputs raise typed errors naming the field', async () => {
  const grpo = await estimator({ kind: 'grpo' });
  const field = (cls: typeof ShapeError | typeof NonFiniteError, name: string) => (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assert.equal((err as ShapeError).field, name);
    return true;
  };
  await assert.rejects(grpo.compute({ rewards: [1, 2, 3], groups: [0, 0] }), field(ShapeError, 'groups'));
  await assert.rejects(grpo.compute({ rewards: [1, 2] }), field(ShapeError, 'groups'));
  await assert.rejects(grpo.compute({ rewards: [1, NaN], groups: [0, 0] }), field(NonFiniteError, 'rewards'));
  await assert.rejects(grpo.compute({ rewards: Float32Array.from([1, Infinity]), groups: [0, 0] }), field(NonFiniteError, 'rewards'));
  await assert.rejects(grpo.compute({ rewards: [1, 1e300], groups: [0, 0] }), field(NonFiniteError, 'rewards'));
  await assert.rejects(grpo.compute({ rewards: [1, 2], groups: [0, 1.5] }), field(ShapeError, 'groups'));
  await assert.rejects(grpo.compute({ rewards: [1, 2], groups: [0, -1] }), field(ShapeError, 'groups'));
  await assert.rejects(grpo.compute({ rewards: [1, 2], groups: [0, 0], keys: [0, 0] }), field(ShapeError, 'keys'));
  await assert.rejects(grpo.compute({ rewards: [1, 2], groups: [0, 0] }, new Float32Array(2)), field(ShapeError, 'state'));
  await assert.rejects(grpo.compute({ rewards: [1, 2], groups: [0, 0], extra: 1 } as EstimatorBatch), field(ShapeError, 'extra'));
  const rpp = await estimator({ kind: 'reinforce++' });
  await assert.rejects(rpp.compute({ rewards: [1, 2], segments: [0, 1] }), field(ShapeError, 'segments'));
  await assert.rejects((await estimator({ kind: 'trr++' })).compute({ rewards: [1, 2] }), field(ShapeError, 'segments'));
  const rae = await estimator({ kind: 'rae', numKeys: 3 });
  await assert.rejects(rae.compute({ rewards: [1, 2], keys: [0, 3] }), field(ShapeError, 'keys'));
  await assert.rejects(rae.compute({ rewards: [1, 2] }), field(ShapeError, 'keys'));
  await assert.rejects(rae.compute({ rewards: [1, 2], keys: [0, 1] }, new Float32Array(2)), field(ShapeError, 'state'));
  await assert.rejects(rae.compute({ rewards: [1, 2], keys: [0, 1] }, Float32Array.from([0, NaN, 0])), field(NonFiniteError, 'state'));
  assert.throws(() => referenceAdvantages({ kind: 'rloo' }, { rewards: [1, 2], groups: [0] }), field(ShapeError, 'groups'));

  const config = (path: string) => (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.ok(err.issues.some((i) => i.path === path), JSON.stringify(err.issues));
    return true;
  };
  await assert.rejects(AdvantageEstimator.create({ kind: 'grpo', epsilon: 1e-6 } as EstimatorSpec), config('/epsilon'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'ppo' } as unknown as EstimatorSpec), config('/kind'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'grpo', decay: 0.9 }), config('/decay'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'rloo', eps: 1e-6 }), config('/eps'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'rae', zeroVariance: 'drop' }), config('/zeroVariance'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'rae', decay: 1 }), config('/decay'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'rae', numKeys: 0 }), config('/numKeys'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'grpo', eps: -1 }), config('/eps'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'grpo', zeroVariance: 'skip' } as unknown as EstimatorSpec), config('/zeroVariance'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'trr++', numKeys: 6 }), config('/numKeys'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'trr++', decay: 1 }), config('/decay'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'trr++', decay: 0.9, numKeys: 0 }), config('/numKeys'));
  await assert.rejects(AdvantageEstimator.create({ kind: 'reinforce++', decay: 0.9 }), config('/decay'));
  const running = await estimator({ kind: 'trr++', decay: 0.9, numKeys: 3 });
  await assert.rejects(running.compute({ rewards: [1, 2], segments: [0, 3] }), field(ShapeError, 'segments'));
  await assert.rejects(running.compute({ rewards: [1, 2], segments: [0, 1] }, new Float32Array(3)), field(ShapeError, 'state'));
  await assert.rejects(running.compute({ rewards: [1, 2], segments: [0, 1] }, Float32Array.from([0, 0, 0, 0, Infinity, 0, 0, 0, 0])), field(NonFiniteError, 'state'));
});

test('lifecycle: empty batch, session cache per bucket, idempotent close', async () => {
  const e = await AdvantageEstimator.create({ kind: 'rae', numKeys: 2 }, RUNTIME);
  assert.deepEqual([...e.initialState()], [0, 0]);
  const empty = await e.compute({ rewards: [], keys: [] }, Float32Array.from([1, 2]));
  assert.equal(empty.advantages.length, 0);
  assert.deepEqual([...empty.state!], [1, 2]);
  await e.compute({ rewards: [1, 2, 3], keys: [0, 1, 0] });
  await e.compute({ rewards: [1, 2, 3, 4, 5], keys: [0, 1, 0, 1, 1] });
  await e.compute({ rewards: new Array(9).fill(1), keys: new Array(9).fill(0) });
  assert.equal((e as unknown as { sessions: Map<string, unknown> }).sessions.size, 2, 'rows 3 and 5 share the 8-row bucket');
  await Promise.all([e.close(), e.close()]);
  await e.close();
  await assert.rejects(e.compute({ rewards: [1], keys: [0] }), (err: Error & { code?: string }) => err.code === 'ESTIMATOR_CLOSED');
});
