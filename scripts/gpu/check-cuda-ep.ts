// Smoke check of the CUDA EP: a float64 finite-difference gradient check of a small
// softmax(x·W) graph. The full per-op and full-loss checks run with
// SPAR_TEST_EP=cuda node scripts/run-tests.mjs gradients loss-gradients. Run on a GPU host after
// prepare-cuda-ep.sh:
//   node --import tsx scripts/gpu/check-cuda-ep.ts
import { createSession, missingCudaLibraries, Graph, serialize, gradients, runSession } from '@spar/policy';

const missing = missingCudaLibraries();
if (missing.length) {
  console.error(`CUDA EP libraries missing: ${missing.join(', ')} (run scripts/gpu/prepare-cuda-ep.sh)`);
  process.exit(1);
}
// A tiny graph through the CUDA EP: y = sum(softmax(x W)), gradient vs central differences (float64).
const g = new Graph('float64');
const x = g.input('x', 'float64', [3, 4]);
const w = g.input('w', 'float64', [4, 5]);
const loss = g.sumAll(g.mul(g.softmax(g.matmul(x, w)), g.input('c', 'float64', [3, 5])));
const [dw] = gradients(g, loss, [w]);
g.output(loss, 'loss');
g.output(dw!, 'dw');
const s = await createSession(serialize(g), { ep: 'cuda' });
const rnd = (n: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const feeds = { x: { dtype: 'float64' as const, shape: [3, 4], data: rnd(12) }, w: { dtype: 'float64' as const, shape: [4, 5], data: rnd(20) }, c: { dtype: 'float64' as const, shape: [3, 5], data: rnd(15).map((v) => v + 1) } };
const out = await runSession(s, feeds);
const analytic = out.dw!.data as Float64Array;
let maxRel = 0;
for (let i = 0; i < 20; i++) {
  const orig = feeds.w.data[i]!;
  feeds.w.data[i] = orig + 1e-6;
  const lp = ((await runSession(s, feeds, ['loss'])).loss!.data as Float64Array)[0]!;
  feeds.w.data[i] = orig - 1e-6;
  const lm = ((await runSession(s, feeds, ['loss'])).loss!.data as Float64Array)[0]!;
  feeds.w.data[i] = orig;
  const num = (lp - lm) / 2e-6;
  maxRel = Math.max(maxRel, Math.abs(num - analytic[i]!) / Math.max(Math.abs(num), Math.abs(analytic[i]!), 1e-4));
}
console.log(JSON.stringify({ check: 'cuda-gradient', maxRelError: maxRel, ok: maxRel <= 1e-5 }));
process.exit(maxRel <= 1e-5 ? 0 : 1);
