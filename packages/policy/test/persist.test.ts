import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  applyWeights, CheckpointError, exportOnnx, Learner, loadPolicy, Policy, policyWeights, savePolicy, Vocabulary,
} from '../src/index.ts';

const cfg = { vocabSize: 13, layers: 2, dModel: 16, heads: 2, context: 16, seed: 4 };
const samples = [
  { tokens: [1, 5, 6, 7, 8], mask: [0, 0, 1, 1, 1], advantage: 1 },
  { tokens: [1, 9, 10, 11], mask: [0, 0, 1, 1], advantage: -1 },
];
const dirs: string[] = [];
after(async () => { await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))); });
async function tmp() {
  const d = await mkdtemp(join(tmpdir(), 'spar-persist-'));
  dirs.push(d);
  return d;
}

test('checkpoint round-trip is bit-exact and resume continues exactly', async () => {
  const root = await tmp();
  const a = await Policy.create(cfg, { worker: false });
  const la = await Learner.create(a, { entropyCoef: 0.01 }, { lr: 1e-2, weightDecay: 0.1 });
  await la.step(samples);
  await la.step(samples);
  const saved = await savePolicy(a, join(root, 'ck'), { extraTensors: { rae: { dtype: 'float32', shape: [2], data: Float32Array.of(0.25, -0.5) } }, metadata: { cursor: '17-0' } });
  assert.match(saved.sha256, /^[0-9a-f]{64}$/);
  const { policy: b, metadata, extraTensors } = await loadPolicy(join(root, 'ck'), { worker: false });
  assert.deepEqual(metadata, { cursor: '17-0' });
  assert.deepEqual([...(extraTensors.rae!.data as Float32Array)], [0.25, -0.5]);
  const [sa, sb] = [await a.state(), await b.state()];
  assert.equal(sb.step, 2);
  assert.equal(b.version, a.version);
  for (const k of Object.keys(sa.params)) {
    assert.deepEqual(Buffer.from(sb.params[k]!.buffer, sb.params[k]!.byteOffset, sb.params[k]!.byteLength),
      Buffer.from(sa.params[k]!.buffer, sa.params[k]!.byteOffset, sa.params[k]!.byteLength), `param ${k} not bit-exact`);
    assert.deepEqual(sb.m![k], sa.m![k]);
    assert.deepEqual(sb.v![k], sa.v![k]);
  }
  // Resume: two more steps on both must give bit-identical weights.
  const lb = await Learner.create(b, { entropyCoef: 0.01 }, { lr: 1e-2, weightDecay: 0.1 });
  for (let i = 0; i < 2; i++) {
    const [ma, mb] = [await la.step(samples), await lb.step(samples)];
    assert.equal(ma.loss, mb.loss);
  }
  const [ea, eb] = [await a.state(), await b.state()];
  for (const k of Object.keys(ea.params)) assert.deepEqual(eb.params[k], ea.params[k], `param ${k} diverged after resume`);
  await Promise.all([a.close(), b.close()]);
});

test('published weights are verified by hash and hot-swapped', async () => {
  const a = await Policy.create(cfg, { worker: false });
  const b = await Policy.create({ ...cfg, seed: 99 }, { worker: false });
  const l = await Learner.create(a, {}, { lr: 1e-2 });
  await l.step(samples);
  const w = await policyWeights(a);
  assert.equal(w.version, 1);
  await assert.rejects(applyWeights(b, { ...w, sha256: '0'.repeat(64) }), CheckpointError);
  await applyWeights(b, w);
  assert.equal(b.version, 1);
  assert.deepEqual(await b.score([[1, 2, 3, 4]]), await a.score([[1, 2, 3, 4]]));
  await Promise.all([a.close(), b.close()]);
});

test('exported ONNX model runs standalone and matches the policy', async () => {
  const dir = await tmp();
  const vocab = Vocabulary.create([{ symbols: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] }]);
  const p = await Policy.create({ ...cfg, vocabSize: vocab.size }, { worker: false });
  await exportOnnx(p, dir, { tokenizer: vocab });
  const tok = Vocabulary.fromJSON(JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')));
  const ids = [1, ...tok.encode('abcagh')];
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  const padded = new BigInt64Array(cfg.context);
  ids.forEach((t, i) => { padded[i] = BigInt(t); });
  const out = await session.run({ ids: new ort.Tensor('int64', padded, [1, cfg.context]) });
  const logits = out.logits!.data as Float32Array;
  const V = vocab.size;
  const [scored] = await p.score([ids]);
  for (let t = 1; t < ids.length; t++) {
    const row = logits.subarray((t - 1) * V, t * V);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    assert.ok(Math.abs(row[ids[t]!]! - lse - scored![t]!) < 1e-5, `position ${t}`);
  }
  const meta = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  assert.equal(meta.model.vocabSize, V);
  await session.release();
  await p.close();
});
