// The Hugging Face parity fixtures (packages/policy/test/fixtures/hf: Qwen2 with GQA and biases,
// Llama with rope_theta 5e5, Qwen3 with q/k norms, Arcee with a GELU MLP) through the CUDA EP: the
// forward graph's logits against the float64 reference, next to the CPU EP's, and KV-cache
// generation on the GPU against full scoring. Run on a GPU host after prepare-cuda-ep.sh (or gpu-carry's unpack):
//   node --import tsx scripts/gpu/check-hf-cuda.ts
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSession, Graph, loadHfPolicy, missingCudaLibraries, paramSpecs, readHfModel, runSession, serialize, type TensorData } from '@spar/policy';
import { declareParams, forward } from '../../packages/policy/src/model/transformer.ts';
import { cachedVsScored } from '../../packages/policy/test/kv-consistency.ts';

const missing = missingCudaLibraries();
if (missing.length) {
  console.error(`CUDA EP libraries missing: ${missing.join(', ')} (run scripts/gpu/prepare-cuda-ep.sh)`);
  process.exit(1);
}
const FIXTURES = 'packages/policy/test/fixtures/hf';
let ok = true;
for (const name of ['qwen2', 'llama', 'qwen3', 'arcee']) {
  const dir = join(FIXTURES, name);
  const m = await readHfModel(dir);
  const exp = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as { ids: number[][]; logits: number[][][] };
  const [B, T] = [exp.ids.length, exp.ids[0]!.length];
  const g = new Graph('float32');
  const p = declareParams(g, m.config);
  g.output(forward(g, m.config, p, g.input('ids', 'int64', [B, T])).logits, 'logits');
  const feeds: Record<string, TensorData> = { ids: { dtype: 'int64', shape: [B, T], data: BigInt64Array.from(exp.ids.flat().map(BigInt)) } };
  for (const s of paramSpecs(m.config)) feeds[s.name] = { dtype: 'float32', shape: s.shape, data: m.params[s.name]! };
  const want = exp.logits.flat(2);
  const scale = Math.max(...want.map(Math.abs));
  const errors: Record<string, number> = {};
  for (const ep of ['cpu', 'cuda'] as const) {
    const session = await createSession(serialize(g), { ep });
    const got = (await runSession(session, feeds)).logits!.data as Float32Array;
    await session.release();
    errors[ep] = Math.max(...want.map((w, i) => Math.abs(got[i]! - w))) / scale;
  }
  // KV-cache generation on the GPU equals full scoring of what it generated.
  const { policy } = await loadHfPolicy(dir, { worker: false, ep: 'cuda' });
  const prompts = exp.ids.map((r) => r.slice(0, 4));
  const { maxGap: kvGap } = await cachedVsScored(policy, prompts, { maxNewTokens: 6, temperature: 1, seed: 3 });
  await policy.close();
  const pass = errors.cuda! <= 1e-4 && kvGap <= 1e-3;
  ok &&= pass;
  console.log(JSON.stringify({ fixture: name, maxRelLogitError: errors, kvCacheVsScoringMaxLogprobGap: kvGap, ok: pass }));
}
process.exit(ok ? 0 : 1);
