import * as ort from 'onnxruntime-node';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { parseModelConfig, parseLossConfig, parseOptimizerConfig, serialize, paramSpecs, initParams } from '../packages/policy/src/index.ts';
import { buildTrainGraph } from '../packages/policy/src/train/step-graph.ts';
// Per-op profile of one train-step graph (onnxruntime's profiler). Defaults: bench:learner's shape.
// env: L D H V B T (model and padded batch), KL=1 (with reference log-probs), MASKED=1 (with a [B,T,V] logit mask), THREADS, NODES=n (slowest nodes), SPLIT=1 (matmul / activations / parameters)
const e = (k: string, d: number) => Number(process.env[k] ?? d);
const B = e('B', 16), T = e('T', 128);
const c = parseModelConfig({ layers: e('L', 4), dModel: e('D', 256), heads: e('H', 8), vocabSize: e('V', 256), context: T + 1 });
const withRef = process.env.KL === '1';
const masked = process.env.MASKED === '1';
const tg = buildTrainGraph(c, parseLossConfig({ entropyCoef: 0.01, klCoef: withRef ? 0.1 : 0 }), parseOptimizerConfig({}), { batch: B, length: T, withRef, masked });
for (const f of readdirSync('/tmp')) if (f.startsWith('sparprof')) rmSync('/tmp/' + f);
const threads = e('THREADS', 0);
const s = await ort.InferenceSession.create(serialize(tg.graph), { enableProfiling: true, graphOptimizationLevel: 'all', profileFilePrefix: '/tmp/sparprof', ...(threads ? { intraOpNumThreads: threads } : {}) } as any);
const feeds: Record<string, ort.Tensor> = {};
const p = initParams(c);
for (const sp of paramSpecs(c)) { feeds[sp.name] = new ort.Tensor('float32', p.get(sp.name)!, sp.shape as number[]); feeds['m:' + sp.name] = new ort.Tensor('float32', new Float32Array(p.get(sp.name)!.length), sp.shape as number[]); feeds['v:' + sp.name] = new ort.Tensor('float32', new Float32Array(p.get(sp.name)!.length), sp.shape as number[]); }
const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % c.vocabSize));
feeds.ids = new ort.Tensor('int64', ids, [B, T]); feeds.targets = new ort.Tensor('int64', ids, [B, T]);
for (const k of ['mask', 'advantages', 'oldLogp', ...(withRef ? ['refLogp'] : [])]) feeds[k] = new ort.Tensor('float32', new Float32Array(B * T).fill(k === 'mask' ? 1 : 0.1), [B, T]);
if (masked) feeds.logitMask = new ort.Tensor('float32', new Float32Array(B * T * c.vocabSize), [B, T, c.vocabSize]);
for (const k of ['lr', 'bc1', 'bc2']) feeds[k] = new ort.Tensor('float32', Float32Array.of(0.001), []);
for (let i = 0; i < 4; i++) await s.run(feeds);
await (s as any).endProfiling(); const file = '/tmp/' + readdirSync('/tmp').find((f) => f.startsWith('sparprof'));
const ev = JSON.parse(readFileSync(file, 'utf8')) as any[];
const by = new Map<string, number>(); let tot = 0;
for (const e of ev) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) { const k = e.args.op_name; by.set(k, (by.get(k) ?? 0) + e.dur); tot += e.dur; }
console.log('total kernel ms per run', (tot / 4 / 1000).toFixed(1), 'nodes', tg.graph.nodes.length);
for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 18)) console.log(k.padEnd(20), (v / 4 / 1000).toFixed(1), 'ms', (100 * v / tot).toFixed(1) + '%');
if (process.env.NODES) {
  const byNode = new Map<string, { op: string; dur: number; shape: string }>();
  for (const x of ev) if (x.cat === 'Node' && x.name.endsWith('_kernel_time')) {
    const k = x.name.replace(/_kernel_time$/, '');
    const cur = byNode.get(k) ?? { op: x.args.op_name, dur: 0, shape: JSON.stringify(x.args.input_type_shape?.map((t: any) => Object.values(t)[0])) };
    cur.dur += x.dur; byNode.set(k, cur);
  }
  for (const [k, v] of [...byNode].sort((a, b) => b[1].dur - a[1].dur).slice(0, Number(process.env.NODES))) console.log((v.dur / 4 / 1000).toFixed(2).padStart(7), 'ms', v.op.padEnd(12), k.slice(0, 40).padEnd(40), v.shape);
}
if (process.env.SPLIT) {
  // Kernel time by part of the step, told apart by the first input's shape: MatMuls; element-wise
  // ops on activations ([B, …] or [B·T, …]: attention, FFN, norms, loss); ops on parameters (AdamW, clipping).
  const parts = new Map<string, number>();
  for (const x of ev) if (x.cat === 'Node' && x.name.endsWith('_kernel_time')) {
    const first = (Object.values(x.args.input_type_shape?.[0] ?? {})[0] ?? []) as number[];
    const part = /MatMul|Gemm/.test(x.args.op_name) ? 'matmul' : first[0] === B || first[0] === B * T ? 'activations' : first.length <= 2 ? 'parameters' : 'other';
    parts.set(part, (parts.get(part) ?? 0) + x.dur);
  }
  console.log('split', [...parts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(100 * v / tot).toFixed(1)}%`).join('  '));
}
