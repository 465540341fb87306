import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { parseModelConfig, parseLossConfig, parseOptimizerConfig, serialize, paramSpecs, initParams } from '../packages/policy/src/index.ts';
import { buildTrainGraph } from '../packages/policy/src/train/step-graph.ts';
const c = parseModelConfig({ layers: 4, dModel: 256, heads: 8, vocabSize: 256, context: 129 });
const B = 16, T = 128;
const tg = buildTrainGraph(c, parseLossConfig({ entropyCoef: 0.01 }), parseOptimizerConfig({}), { batch: B, length: T, withRef: false });
const s = await ort.InferenceSession.create(serialize(tg.graph), { enableProfiling: true, graphOptimizationLevel: 'all', profileFilePrefix: '/tmp/sparprof' } as any);
const feeds: Record<string, ort.Tensor> = {};
const p = initParams(c);
for (const sp of paramSpecs(c)) { feeds[sp.name] = new ort.Tensor('float32', p.get(sp.name)!, sp.shape as number[]); feeds['m:' + sp.name] = new ort.Tensor('float32', new Float32Array(p.get(sp.name)!.length), sp.shape as number[]); feeds['v:' + sp.name] = new ort.Tensor('float32', new Float32Array(p.get(sp.name)!.length), sp.shape as number[]); }
const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % 256));
feeds.ids = new ort.Tensor('int64', ids, [B, T]); feeds.targets = new ort.Tensor('int64', ids, [B, T]);
for (const k of ['mask', 'advantages', 'oldLogp']) feeds[k] = new ort.Tensor('float32', new Float32Array(B * T).fill(k === 'mask' ? 1 : 0.1), [B, T]);
for (const k of ['lr', 'bc1', 'bc2']) feeds[k] = new ort.Tensor('float32', Float32Array.of(0.001), []);
for (let i = 0; i < 4; i++) await s.run(feeds);
await (s as any).endProfiling(); const { readdirSync } = await import('node:fs'); const file = '/tmp/' + readdirSync('/tmp').find((f) => f.startsWith('sparprof'));
const ev = JSON.parse(readFileSync(file, 'utf8')) as any[];
const by = new Map<string, number>(); let tot = 0;
for (const e of ev) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) { const k = e.args.op_name; by.set(k, (by.get(k) ?? 0) + e.dur); tot += e.dur; }
console.log('total kernel ms per run', (tot / 4 / 1000).toFixed(1), 'nodes', tg.graph.nodes.length);
for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 18)) console.log(k.padEnd(20), (v / 4 / 1000).toFixed(1), 'ms', (100 * v / tot).toFixed(1) + '%');
