// `spar export` on a data dir laid out as the learner writes it (local mode's
// <data dir>/<run>/<experiment>/{checkpoints/step-…-f<token>, export}), with a real policy's
// checkpoint and ONNX export: the Hugging Face folder it writes reads back to the checkpoint's
// weights bit for bit, with spar's vocabulary as its tokenizer; and every error names its cause.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkpointDir, exportOnnx, loadHfTokenizer, Policy, readHfModel, readSourceWeights, savePolicy, Vocabulary } from '@spar/policy';
import { main } from '../src/main.ts';
import { runExport } from '../src/export.ts';

const ID = 'tictactoe-m3x9k2ab1c';
const VOCAB = Vocabulary.create([{ specials: ['<proposer>'], symbols: ['X', 'O', '.', '|', 'XO'] }]);
let dataDir: string;
let expDir: string;
let policy: Policy;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'spar-export-'));
  expDir = join(dataDir, 'local-2026-12-04T10-00-00-000Z', ID);
  policy = await Policy.create({ vocabSize: VOCAB.size, layers: 1, dModel: 16, heads: 2, context: 16, initStd: 0.2, seed: 3 }, { worker: false, threads: 1 });
  await savePolicy(policy, checkpointDir(join(expDir, 'checkpoints'), 40, 2));
  await exportOnnx(policy, join(expDir, 'export'), { tokenizer: VOCAB });
});
after(async () => {
  await policy.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('export ID --format hf: the newest checkpoint as a Hugging Face folder, with the run\'s vocabulary as its tokenizer', async () => {
  const out = join(dataDir, 'hf');
  assert.equal(await main(['export', ID, '--format', 'hf', '--out', out, '--data-dir', dataDir]), 0);
  const hf = await readHfModel(out, { seed: 3 });
  const ck = await readSourceWeights(join(expDir, 'checkpoints'));
  assert.equal(hf.modelType, 'arcee', 'a from-scratch (GELU) policy');
  const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  assert.deepEqual(Object.keys(hf.params).sort(), Object.keys(ck.params).sort());
  for (const [k, v] of Object.entries(ck.params)) assert.ok(bytes(hf.params[k]!).equals(bytes(v)), k);
  const tok = await loadHfTokenizer(out);
  assert.deepEqual([...tok.encode('XO.X|O<proposer>')], [...VOCAB.encode('XO.X|O<proposer>')]);
});

test('--from a checkpoint, --tokenizer a spar export folder, BF16; the summary says what was read', async () => {
  const step = checkpointDir(join(expDir, 'checkpoints'), 40, 2);
  const s = await runExport({ from: step, format: 'hf', out: join(dataDir, 'hf-bf16'), tokenizer: join(expDir, 'export'), dtype: 'bfloat16' });
  assert.deepEqual({ ...s, files: s.files.length }, {
    out: join(dataDir, 'hf-bf16'), from: step, modelType: 'arcee', dtype: 'bfloat16', tokenizer: { kind: 'vocabulary', from: join(expDir, 'export') }, files: 6,
  });
  // Without a vocabulary next to the weights and no --tokenizer: weights only.
  const bare = await runExport({ from: step, format: 'hf', out: join(dataDir, 'hf-bare') });
  assert.deepEqual([bare.tokenizer, bare.files], [{ kind: 'none' }, ['config.json', 'generation_config.json', 'model.safetensors']]);
});

test('an experiment with only its export (no checkpoint) exports that', async () => {
  const only = join(dataDir, 'only-export');
  await exportOnnx(policy, join(only, 'exp-1', 'export'), { tokenizer: VOCAB });
  const s = await runExport({ experimentId: 'exp-1', dataDir: only, format: 'hf', out: join(dataDir, 'hf-from-export') });
  assert.deepEqual([s.from, s.tokenizer.kind], [join(only, 'exp-1', 'export'), 'vocabulary']);
});

test('clear errors: unknown experiment, no checkpoint yet, bad or missing --format, --out, --dtype, --model-type', async () => {
  const out = join(dataDir, 'never');
  await assert.rejects(main(['export', 'nope-123', '--format', 'hf', '--out', out, '--data-dir', dataDir]), /unknown experiment nope-123: no folder .*nope-123.*pass --data-dir/);
  await mkdir(join(dataDir, 'fresh-1', 'checkpoints'), { recursive: true });
  await assert.rejects(main(['export', 'fresh-1', '--format', 'hf', '--out', out, '--data-dir', dataDir]), /experiment fresh-1 .* has no checkpoint in .*checkpoints and no export in .*export yet/);
  await assert.rejects(main(['export', ID, '--format', 'onnx', '--out', out, '--data-dir', dataDir]), /unknown --format 'onnx' \(supported: hf, peft\)/);
  await assert.rejects(main(['export', ID, '--out', out, '--data-dir', dataDir]), /--format is required \(supported: hf, peft\)/);
  await assert.rejects(main(['export', ID, '--format', 'peft', '--out', out, '--data-dir', dataDir]), /not a LoRA policy \(its model has no policy\.lora adapters\)/);
  await assert.rejects(main(['export', ID, '--format', 'hf', '--data-dir', dataDir]), /--out DIR is required/);
  await assert.rejects(main(['export', ID, '--format', 'hf', '--out', out, '--data-dir', dataDir, '--dtype', 'float16']), /unknown --dtype 'float16'/);
  await assert.rejects(main(['export', ID, '--format', 'hf', '--out', out, '--data-dir', dataDir, '--model-type', 'gpt2']), /unknown --model-type 'gpt2' \(qwen2, llama, qwen3, arcee\)/);
  await assert.rejects(main(['export', ID, '--format', 'hf', '--out', out, '--data-dir', dataDir, '--model-type', 'llama']), /computes as arcee .*not as llama/);
  await assert.rejects(main(['export', '--format', 'hf', '--out', out]), /name an experiment id, or --from DIR/);
});
