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
// A tiny graph through the CUDA EP: y = sum(softmax(x W)), gradient vs central differences and vs the CPU EP (float64).
const g = new Graph('float64');
const x = g.input('x', 'float64', [3, 4]);
const w = g.input('w', 'float64', [4, 5]);
const loss = g.sumAll(g.mul(g.softmax(g.matmul(x, w)), g.input('c', 'float64', [3, 5])));
const [dw] = gradients(g, loss, [w]);
g.output(loss, 'loss');
g.output(dw!, 'dw');
const rnd = (n: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const feeds = { x: { dtype: 'float64' as const, shape: [3, 4], data: rnd(12) }, w: { dtype: 'float64' as const, shape: [4, 5], data: rnd(20) }, c: { dtype: 'float64' as const, shape: [3, 5], data: rnd(15).map((v) => v + 1) } };
// The CUDA EP's float64 loss differs from the CPU EP's by ~1e-9 relative (measured on an H200:
// 2.998117325597776 vs 2.998117322627544), which swamps central differences at a step of 1e-6
// (the first version of this check reported a relative error of 1.0). So: a step of 1e-3
// (truncation ~1e-7, noise ~2e-6 on gradients of 0.004–0.04), and the gradient must equal the CPU
// EP's analytic one, which the CPU test suite checks against float64 differences.
const [cuda, cpu] = [await createSession(serialize(g), { ep: 'cuda' }), await createSession(serialize(g), { ep: 'cpu' })];
const analytic = (await runSession(cuda, feeds)).dw!.data as Float64Array;
const onCpu = (await runSession(cpu, feeds)).dw!.data as Float64Array;
const H = 1e-3;
let maxRel = 0;
let maxVsCpu = 0;
for (let i = 0; i < 20; i++) {
  const orig = feeds.w.data[i]!;
  feeds.w.data[i] = orig + H;
  const lp = ((await runSession(cuda, feeds, ['loss'])).loss!.data as Float64Array)[0]!;
  feeds.w.data[i] = orig - H;
  const lm = ((await runSession(cuda, feeds, ['loss'])).loss!.data as Float64Array)[0]!;
  feeds.w.data[i] = orig;
  const num = (lp - lm) / (2 * H);
  const scale = Math.max(Math.abs(num), Math.abs(analytic[i]!), 1e-4);
  maxRel = Math.max(maxRel, Math.abs(num - analytic[i]!) / scale);
  maxVsCpu = Math.max(maxVsCpu, Math.abs(onCpu[i]! - analytic[i]!) / scale);
}
const ok = maxRel <= 1e-3 && maxVsCpu <= 1e-6;
console.log(JSON.stringify({ check: 'cuda-gradient', maxRelErrorVsFiniteDifferences: maxRel, maxRelErrorVsCpuEp: maxVsCpu, ok }));
process.exit(ok ? 0 : 1);
