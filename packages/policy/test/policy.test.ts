import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ConfigError, NonFiniteError, ShapeError } from '../src/errors.ts';
import { Learner, Policy } from '../src/index.ts';
import { rng } from './gradcheck.ts';
import { cachedVsScored } from './kv-consistency.ts';

const base = { vocabSize: 11, layers: 2, dModel: 32, heads: 4, context: 24, seed: 7 };
const open: Policy[] = [];
after(async () => { await Promise.all(open.map((p) => p.close())); });
async function make(cfg: object, worker = false) {
  const p = await Policy.create(cfg, { worker, threads: 1 });
  open.push(p);
  return p;
}

function randomSeq(r: () => number, n: number, v: number) {
  return Array.from({ length: n }, () => Math.floor(r() * v));
}

for (const positions of ['rotary', 'learned'] as const) {
  test(`causality (${positions}): changing token t never changes log-probs before t`, async () => {
    const p = await make({ ...base, positions });
    const r = rng(1);
    const seq = randomSeq(r, 20, base.vocabSize);
    for (const t of [3, 10, 19]) {
      const alt = [...seq];
      alt[t] = (alt[t]! + 1) % base.vocabSize;
      const [a, b] = await p.score([seq, alt]);
      for (let i = 1; i < t; i++) assert.equal(a![i], b![i], `position ${i} changed when token ${t} changed`);
      assert.notEqual(a![t], b![t], 'the changed token itself must score differently');
    }
  });

  test(`KV-cache generation log-probs equal full-sequence scoring (${positions})`, async () => {
    const p = await make({ ...base, positions, activation: positions === 'learned' ? 'swiglu' : 'gelu' });
    const r = rng(2);
    const prompts = [3, 7, 1, 5, 12].map((n) => randomSeq(r, n, base.vocabSize));
    const { rows, maxGap: maxErr } = await cachedVsScored(p, prompts, { maxNewTokens: 9, temperature: 1, seed: 3 });
    rows.forEach((row, i) => assert.equal(row.tokens.length, Math.min(9, base.context - prompts[i]!.length)));
    assert.ok(maxErr <= 1e-5, `max |cached - scored| = ${maxErr}`);
  });
}

test('masked scoring renormalises over the allowed ids, in-thread and in a worker alike', async () => {
  const seq = [1, 4, 2, 7, 3];
  const allowed = [null, null, [2, 5, 9], null, [3, 0]];
  for (const worker of [false, true]) {
    const p = await make(base, worker);
    const [plain] = await p.score([seq]);
    const [masked] = await p.score([seq], [allowed]);
    // Unconstrained positions are untouched.
    for (const j of [1, 3]) assert.ok(Math.abs(masked![j]! - plain![j]!) < 1e-6, `position ${j}`);
    // Constrained ones: logp(token) − log Σ_{a∈allowed} p(a | prefix), from full-vocabulary scores.
    for (const j of [2, 4]) {
      const alts = await p.score(allowed[j]!.map((a) => { const s = seq.slice(0, j + 1); s[j] = a; return s; }));
      const lse = Math.log(alts.reduce((acc, s) => acc + Math.exp(s[j]!), 0));
      assert.ok(Math.abs(masked![j]! - (plain![j]! - lse)) < 1e-5, `position ${j}: ${masked![j]} vs ${plain![j]! - lse}`);
      assert.ok(masked![j]! > plain![j]!, 'renormalising over a subset raises the log-prob');
    }
  }
  const p = await make(base);
  await assert.rejects(p.score([seq], [[null, null, [11]]]), (e: unknown) => e instanceof ShapeError && e.field === 'allowed[0][2]');
  await assert.rejects(p.score([seq], []), (e: unknown) => e instanceof ShapeError && e.field === 'allowed');
});

test('a PPO step without behaviour log-probs is on-policy under constrained decoding (ratio 1)', async () => {
  const p = await make(base);
  const l = await Learner.create(p, { kind: 'ppo', entropyCoef: 0 }, { lr: 1e-3 });
  const m = await l.step([{ tokens: [1, 4, 2, 7], mask: [0, 0, 1, 1], advantage: 1.5, allowed: [null, null, [2, 5], [7, 8, 9]] }]);
  assert.ok(Math.abs(m.loss + 1.5) < 1e-5, `loss ${m.loss}: the ratio to self-scored log-probs must be exactly 1`);
  assert.equal(m.clipFrac, 0);
});

test('generation: greedy is deterministic, stop tokens end rows, masks constrain, seeds reproduce', async () => {
  const p = await make(base);
  const prompts = [[1, 2, 3], [4, 5]];
  const g1 = await p.generate(prompts, { maxNewTokens: 6, temperature: 0 });
  const g2 = await p.generate(prompts, { maxNewTokens: 6, temperature: 0 });
  assert.deepEqual(g1.rows.map((r) => [...r.tokens]), g2.rows.map((r) => [...r.tokens]));
  const s1 = await p.generate(prompts, { maxNewTokens: 6, seed: 9, topP: 0.9 });
  const s2 = await p.generate(prompts, { maxNewTokens: 6, seed: 9, topP: 0.9 });
  assert.deepEqual(s1.rows.map((r) => [...r.tokens]), s2.rows.map((r) => [...r.tokens]));
  // Only even tokens allowed; stop at token 4.
  const allowed = Array.from({ length: base.vocabSize }, (_, i) => (i % 2 === 0 ? 1 : 0));
  const m = await p.generate(prompts, { maxNewTokens: 20, seed: 1, mask: () => allowed, stop: [4] });
  for (const row of m.rows) {
    for (const t of row.tokens) assert.equal(t % 2, 0, 'masked token sampled');
    if (row.finishReason === 'stop') assert.equal(row.tokens[row.tokens.length - 1], 4);
    row.samplingLogprobs.forEach((lp, j) => assert.ok(lp >= row.logprobs[j]! - 1e-6, 'masking can only raise the sampled probability'));
  }
  // A mask allowing nothing ends the row with reason 'masked'.
  const none = await p.generate([[1]], { maxNewTokens: 3, mask: () => new Uint8Array(base.vocabSize) });
  assert.equal(none.rows[0]!.finishReason, 'masked');
});

test('worker engine gives the same numbers as the in-thread engine', async () => {
  const a = await make(base, false);
  const b = await make(base, true);
  const seqs = [[1, 2, 3, 4, 5], [6, 7, 8]];
  const [sa, sb] = [await a.score(seqs), await b.score(seqs)];
  assert.deepEqual(sa.map((x) => [...x]), sb.map((x) => [...x]));
  // Generation too: the worker moves prefill's and decode's logits to the caller (two rows fill
  // their batch bucket, so the buffer is onnxruntime's own output; three are padded to four).
  for (const prompts of [seqs, [...seqs, [9, 10]]]) {
    const [ga, gb] = [await a.generate(prompts, { maxNewTokens: 6, seed: 4 }), await b.generate(prompts, { maxNewTokens: 6, seed: 4 })];
    assert.deepEqual(gb.rows, ga.rows);
  }
  const la = await Learner.create(a, {}, { lr: 1e-2 });
  const lb = await Learner.create(b, {}, { lr: 1e-2 });
  const samples = [{ tokens: [1, 2, 3, 4], mask: [0, 0, 1, 1], advantage: 1 }, { tokens: [5, 6, 7], mask: [0, 1, 1], advantage: -0.5 }];
  const [ma, mb] = [await la.step(samples), await lb.step(samples)];
  assert.equal(ma.loss, mb.loss);
  assert.equal(a.version, 1);
  assert.deepEqual([...(await a.score(seqs))[0]!], [...(await b.score(seqs))[0]!]);
});

test('bad input gets typed errors naming the field', async () => {
  await assert.rejects(Policy.create({ ...base, dModell: 3 }, { worker: false }), (e: unknown) => e instanceof ConfigError && /dModell/.test(e.message));
  await assert.rejects(Policy.create({ ...base, heads: 5 }, { worker: false }), (e: unknown) => e instanceof ConfigError && e.issues[0]!.path === '/heads');
  const p = await make(base, true);
  await assert.rejects(p.score([[1, 2, 99]]), (e: unknown) => e instanceof ShapeError && e.field === 'sequences[0][2]');
  await assert.rejects(p.generate([[1, 2.5]], { maxNewTokens: 2 }), (e: unknown) => e instanceof ShapeError && e.field === 'prompts[0][1]');
  const l = await Learner.create(p);
  await assert.rejects(l.step([{ tokens: [1, 2, 3], mask: [0, 1, 1], advantage: NaN }]), (e: unknown) => e instanceof NonFiniteError && e.field === 'samples[0].advantage');
  await assert.rejects(l.step([{ tokens: [1, 2, 3], mask: [0, 1], advantage: 1 }]), (e: unknown) => e instanceof ShapeError && e.field === 'samples[0].mask');
  await assert.rejects(Learner.create(p, { clipLow: 'x' }), (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.path === '/clipLow'));
  await assert.rejects(Learner.create(p, {}, { lrr: 1 }), (e: unknown) => e instanceof ConfigError);
});

test('a non-finite step is rejected without touching parameters', async () => {
  const p = await make(base);
  const l = await Learner.create(p, {}, { lr: 1e-3 });
  const samples = [{ tokens: [1, 2, 3, 4], mask: [0, 1, 1, 1], advantage: 1, logprobs: [0, -2, -2, -2] }];
  const ok = await l.step(samples);
  assert.equal(ok.skipped, false);
  const s = await p.state();
  const poisoned = { ...s, params: { ...s.params, 'layer0.wq': s.params['layer0.wq']!.map(() => 3e38) } };
  await p.setState(poisoned);
  const before = await p.state();
  const bad = await l.step(samples);
  assert.equal(bad.skipped, true);
  assert.equal(bad.step, ok.step, 'step counter must not advance');
  const after = await p.state();
  for (const k of Object.keys(before.params)) assert.deepEqual(after.params[k], before.params[k], `${k} changed`);
  assert.deepEqual(after.m, before.m);
});
