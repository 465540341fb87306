import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  checkpointDir, contentHash, decodeSafetensors, encodeSafetensors, latestCheckpoint, listCheckpoints,
  loadCheckpoint, pruneCheckpoints, requireTensor, saveCheckpoint, type CheckpointTensor,
} from '../src/checkpoint/index.ts';
import { CheckpointError, ConfigError, ShapeError } from '../src/errors.ts';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});
async function tempRoot(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), 'spar-ckpt-'));
  roots.push(r);
  return r;
}

/** Every bit pattern below must survive untouched, so compare raw bytes. */
const rawBytes = (t: CheckpointTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

function sampleTensors(): Record<string, CheckpointTensor> {
  const f32Bits = new Uint32Array([
    0x00000000, 0x80000000, // +0, -0
    0x7fc00000, 0x7fc00001, 0xffc12345, 0x7f800001, // quiet NaN, NaN payloads, signalling NaN
    0x00000001, 0x007fffff, 0x80000001, // denormals
    0x7f800000, 0xff800000, 0x3f800000, 0x7f7fffff, // ±Inf, 1, max
  ]);
  const f64Bits = new BigUint64Array([
    0x8000000000000000n, 0x7ff8000000000001n, 0xfff0000000000001n, 0x0000000000000001n,
    0x7ff0000000000000n, 0xfff0000000000000n, 0x3fb999999999999an,
  ]);
  return {
    'layer.0.w': { dtype: 'float32', shape: [13], data: new Float32Array(f32Bits.buffer) },
    'layer.0.b': { dtype: 'float64', shape: [7], data: new Float64Array(f64Bits.buffer) },
    'rng.state': { dtype: 'int64', shape: [4], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n]) },
    'vocab.ids': { dtype: 'int32', shape: [2, 2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -1]) },
    'bytes': { dtype: 'uint8', shape: [256], data: Uint8Array.from({ length: 256 }, (_, i) => i) },
    'mask': { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
    'scalar': { dtype: 'float32', shape: [], data: new Float32Array([0.5]) },
    'empty': { dtype: 'float32', shape: [0, 3], data: new Float32Array(0) },
  };
}

function assertSameTensors(actual: Record<string, CheckpointTensor>, expected: Record<string, CheckpointTensor>) {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name]!;
    assert.equal(a.dtype, e.dtype, name);
    assert.deepEqual([...a.shape], [...e.shape], name);
    assert.equal(a.data.constructor, e.data.constructor, name);
    assert.ok(rawBytes(a).equals(rawBytes(e)), `${name}: bytes differ`);
  }
}

/** A safetensors file assembled by hand, exactly as the spec (and Python's `save`) lays it out. */
function handBuilt(header: string, data: number[]): Uint8Array {
  const json = Buffer.from(header, 'utf8');
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  out.set(data, 8 + n);
  return out;
}
const le = (bits: number) => [bits & 0xff, (bits >>> 8) & 0xff, (bits >>> 16) & 0xff, bits >>> 24];

test('safetensors round-trip is bit-exact for every dtype', () => {
  const tensors = sampleTensors();
  const bytes = encodeSafetensors(tensors, { format: 'pt', note: 'héllo' });
  const { tensors: back, metadata } = decodeSafetensors(bytes);
  assertSameTensors(back, tensors);
  assert.deepEqual(metadata, { format: 'pt', note: 'héllo' });
  assert.deepEqual(Object.keys(back), Object.keys(back).sort(), 'decoded tensors ordered by name');
  assert.ok(encodeSafetensors(tensors, { note: 'héllo', format: 'pt' }).every((b, i) => b === bytes[i]), 'deterministic');
});

test('encoder writes the reference layout: padded header, aligned data, entries by size then name', () => {
  const bytes = encodeSafetensors({
    b: { dtype: 'float32', shape: [2], data: new Float32Array([1, -2]) },
    a: { dtype: 'uint8', shape: [3], data: new Uint8Array([7, 8, 9]) },
    c: { dtype: 'int64', shape: [1, 1], data: new BigInt64Array([-5n]) },
  }, { format: 'pt' });
  const expected = handBuilt(
    '{"__metadata__":{"format":"pt"},"c":{"dtype":"I64","shape":[1,1],"data_offsets":[0,8]},'
      + '"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"a":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}}',
    [0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...le(0x3f800000), ...le(0xc0000000), 7, 8, 9],
  );
  assert.deepEqual(Buffer.from(bytes).toString('hex'), Buffer.from(expected).toString('hex'));
  assert.equal((bytes.length - 19) % 8, 0, 'data section starts 8-byte aligned');
});

test('decodes a hand-built file and returns aligned copies even at odd offsets', () => {
  // U8 first puts the F32 tensor at byte offset 3 of the data section; extra spaces pad the header.
  const file = handBuilt(
    '{"__metadata__":{"format":"pt"},"u":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},'
      + '"x":{"dtype":"F32","shape":[2,1],"data_offsets":[3,11]},"k":{"dtype":"I64","shape":[],"data_offsets":[11,19]},'
      + '"m":{"dtype":"BOOL","shape":[2],"data_offsets":[19,21]}}   ',
    [1, 2, 3, ...le(0x3fc00000), ...le(0x80000000), 42, 0, 0, 0, 0, 0, 0, 0, 1, 0],
  );
  const { tensors, metadata } = decodeSafetensors(file.subarray(0)); // also at a byteOffset-0 view
  assert.deepEqual(metadata, { format: 'pt' });
  const x = tensors.x!;
  assert.ok(x.data instanceof Float32Array);
  assert.equal(x.data.byteOffset % 4, 0);
  assert.notEqual(x.data.buffer, file.buffer, 'a copy, not a view');
  assert.deepEqual([...x.data], [1.5, -0]);
  assert.ok(Object.is(x.data[1], -0));
  assert.deepEqual([...tensors.u!.data], [1, 2, 3]);
  assert.deepEqual([...tensors.k!.data as BigInt64Array], [42n]);
  assert.deepEqual(tensors.k!.shape, []);
  assert.equal(tensors.m!.dtype, 'bool');

  // the same file inside a larger buffer at an odd byte offset
  const shifted = new Uint8Array(file.length + 1);
  shifted.set(file, 1);
  assert.deepEqual([...decodeSafetensors(shifted.subarray(1)).tensors.x!.data], [1.5, -0]);
});

test('decoder rejects malformed files with CheckpointError', () => {
  const good = encodeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } });
  const reject = (bytes: Uint8Array, pattern: RegExp) => assert.throws(() => decodeSafetensors(bytes), (e: unknown) => {
    assert.ok(e instanceof CheckpointError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
  const f32 = (offsets: string, shape = '[2]', dtype = 'F32') => `{"w":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}}`;
  const eight = [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40];

  reject(good.subarray(0, 5), /too short/);
  reject(good.subarray(0, 20), /header length \d+ exceeds/);
  reject(good.subarray(0, good.length - 1), /run past|truncated/);
  const hugeLength = new Uint8Array(good);
  new DataView(hugeLength.buffer).setBigUint64(0, 2n ** 40n, true);
  reject(hugeLength, /exceeds the 100000000-byte limit/);
  reject(handBuilt(f32('[0,8]', '[2]', 'I16'), eight), /unknown or unsupported dtype "I16"/); // F16 and BF16 are supported (HF imports)
  reject(handBuilt(f32('[0,8]', '[3]'), eight), /needs 12 bytes but data_offsets span 8/);
  reject(handBuilt(f32('[0,8]', '[-2]'), eight), /non-negative integers/);
  reject(handBuilt(f32('[8,0]'), eight), /end before they begin/);
  reject(handBuilt(f32('[0,8]'), [...eight, 0]), /1 trailing bytes/);
  reject(handBuilt(f32('[4,12]'), [...eight, 0, 0, 0, 0]), /belong to no tensor/);
  reject(handBuilt('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', eight), /overlap/);
  reject(handBuilt('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}', eight), /unknown field/);
  reject(handBuilt('{"__metadata__":{"a":1}}', []), /must be a string/);
  reject(handBuilt('[1,2]', []), /must start with '\{'/);
  reject(handBuilt('{"w": nope}', []), /not valid JSON/);
  reject(handBuilt('{"m":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}', [2]), /expected 0 or 1/);
});

test('encoder rejects inconsistent tensors', () => {
  assert.throws(() => encodeSafetensors({ w: { dtype: 'float32', shape: [3], data: new Float32Array(2) } }), ShapeError);
  assert.throws(() => encodeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float64Array(2) } }), ShapeError);
  assert.throws(() => encodeSafetensors({ m: { dtype: 'bool', shape: [1], data: new Uint8Array([3]) } }), ShapeError);
  assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'uint8', shape: [0], data: new Uint8Array(0) } }), ConfigError);
});

test('saveCheckpoint/loadCheckpoint round-trip with a stable sha256', async () => {
  const root = await tempRoot();
  const tensors = sampleTensors();
  const metadata = { step: 123, config: { dModel: 64, layers: 2 }, rng: ['0x1234', '0xabcd'], cursors: { replay: 17 } };
  const a = await saveCheckpoint(join(root, 'a'), { tensors, metadata });
  // same content, different key insertion order → same bytes
  const b = await saveCheckpoint(join(root, 'b'), {
    tensors: Object.fromEntries(Object.entries(tensors).reverse()),
    metadata: { cursors: { replay: 17 }, rng: ['0x1234', '0xabcd'], config: { layers: 2, dModel: 64 }, step: 123 },
  });
  assert.equal(a.sha256, b.sha256);
  assert.equal(a.sha256, contentHash(await readFile(join(root, 'a', 'model.safetensors'))));

  const loaded = await loadCheckpoint(join(root, 'a'));
  assert.equal(loaded.sha256, a.sha256);
  assert.deepEqual(loaded.metadata, metadata);
  assertSameTensors(loaded.tensors, tensors);
  const manifest = JSON.parse(await readFile(join(root, 'a', 'checkpoint.json'), 'utf8'));
  assert.equal(manifest.format, 'spar-checkpoint/1');
  assert.equal(manifest.bytes, a.bytes);
  assert.deepEqual(manifest.tensors['layer.0.w'], { dtype: 'float32', shape: [13] });

  const w = requireTensor(loaded.tensors, 'layer.0.w', 'float32', [13]);
  assert.ok(w.data instanceof Float32Array);
  assert.throws(() => requireTensor(loaded.tensors, 'layer.0.w', 'float64'), ShapeError);
  assert.throws(() => requireTensor(loaded.tensors, 'layer.0.w', 'float32', [1, 13]), ShapeError);
  assert.throws(() => requireTensor(loaded.tensors, 'nope', 'float32'), CheckpointError);

  await assert.rejects(saveCheckpoint(join(root, 'a'), { tensors, metadata }), CheckpointError, 'checkpoints are immutable');
  await assert.rejects(saveCheckpoint(join(root, 'c'), { tensors, metadata: { seed: 1n } }), ConfigError);
  await assert.rejects(saveCheckpoint(join(root, 'c'), { tensors, metadata: { lr: NaN } }), ConfigError);
});

test('loadCheckpoint detects tampering, truncation and missing files', async () => {
  const root = await tempRoot();
  const tensors = { w: { dtype: 'float32' as const, shape: [4], data: new Float32Array([1, 2, 3, 4]) } };
  const dir = (await saveCheckpoint(join(root, 'ok'), { tensors, metadata: { step: 1 } })).dir;
  const model = join(dir, 'model.safetensors');
  const original = await readFile(model);

  const tampered = Buffer.from(original);
  tampered[tampered.length - 1]! ^= 0x01;
  await writeFile(model, tampered);
  await assert.rejects(loadCheckpoint(dir), (e: unknown) => e instanceof CheckpointError && /sha256/.test(e.message));

  await writeFile(model, original);
  await truncate(model, original.length - 3);
  await assert.rejects(loadCheckpoint(dir), (e: unknown) => e instanceof CheckpointError && /truncated/.test(e.message));

  await rm(model);
  await assert.rejects(loadCheckpoint(dir), (e: unknown) => e instanceof CheckpointError && /missing/.test(e.message));
  await assert.rejects(loadCheckpoint(join(root, 'nowhere')), CheckpointError);
});

test('list, latest and prune follow complete step folders only', async () => {
  const root = await tempRoot();
  assert.deepEqual(await listCheckpoints(join(root, 'absent')), []);
  assert.equal(await latestCheckpoint(root), undefined);
  const tensors = { w: { dtype: 'float32' as const, shape: [1], data: new Float32Array([0]) } };
  for (const step of [5, 120, 30]) await saveCheckpoint(checkpointDir(root, step), { tensors, metadata: { step } });
  // what a crash leaves behind: a temp folder, a step folder without checkpoint.json, and noise
  await mkdir(join(root, '.step-000000999.tmp-1-abcd'));
  await writeFile(join(root, '.step-000000999.tmp-1-abcd', 'checkpoint.json'), '{}');
  await mkdir(join(root, 'step-000000500'));
  await writeFile(join(root, 'step-000000500', 'model.safetensors'), 'partial');
  await mkdir(join(root, 'step-77'));
  await writeFile(join(root, 'step-77', 'checkpoint.json'), '{}');

  assert.equal(checkpointDir(root, 120), join(root, 'step-000000120'));
  assert.deepEqual((await listCheckpoints(root)).map((r) => r.step), [5, 30, 120]);
  assert.deepEqual(await latestCheckpoint(root), { step: 120, dir: join(root, 'step-000000120') });

  const removed = await pruneCheckpoints(root, 2);
  assert.deepEqual(removed.map((r) => r.step), [5]);
  assert.deepEqual((await listCheckpoints(root)).map((r) => r.step), [30, 120]);
  assert.deepEqual(await pruneCheckpoints(root, 2), []);
  await assert.rejects(pruneCheckpoints(root, 0), ConfigError);
  assert.deepEqual((await loadCheckpoint(join(root, 'step-000000030'))).metadata, { step: 30 });
});
