// npm run bench:large-vocab — what a large vocabulary costs the engine, old vs new, side by side
// in one run. Default shape: SmolLM2-135M's (vocab 49152, dModel 576, 9 heads, 3 key/value heads,
// SwiGLU 1536, tied embeddings) with 2 layers; random weights, made in memory.
//
// Each case runs in a child process of its own, so its peak RSS is its own:
// - embedGrad:onehot / embedGrad:scatter — the embedding gradient alone (Gather + its gradient
//   over --embedTokens ids): the one-hot MatMul the rule used at every size vs the scatter-add
//   it uses above ONEHOT_GATHER_MAX_ROWS rows;
// - prefill:all / prefill:last — the generation prefill (--prefillBatch × --prefillLength): the
//   head over every position (the old prefill graph) vs at each row's last position;
// - sample:sort / sample:select — one token of top-p sampling (temperature 0.7, topP 0.9) from
//   logits of spread 4 (about an LM's): the full-sort sampler (referenceSampleToken) vs the one
//   that sorts only the nucleus; ms per token, 64 tokens per run;
// - step:old / step:new / step:micro — a PPO step (--batch × --length, entropy bonus): the engine
//   as it was (one-hot embedding gradient, a [B,T,V] logit mask fed to every step) vs now, and
//   now with --microBatchTokens (default a quarter of the batch).
// `--cases a,b` runs only those cases.
// Prints {"bench":"large-vocab","config":{…},"cases":{case:{ms,peakRssMB,rounds}},"ratios":{…}}:
// the cases run --rounds times in turn (a, b, c, a, b, c, …) so that old and new see the same
// machine; a child's figure is the median of --steps runs after one warm-up, ms is the median
// over the rounds (all in `rounds`), peakRssMB the largest; ratios are old ÷ new.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EngineCore } from '../src/engine/core.ts';
import { referenceSampleToken } from '../src/generate/reference-sampler.ts';
import { sampleToken, uniform } from '../src/generate/sampler.ts';
import type { TrainSample } from '../src/engine/batch.ts';
import { buildPrefillGraph } from '../src/engine/graphs.ts';
import { Graph, serialize } from '../src/graph/index.ts';
import { GRADIENT_RULES, gatherGradOneHot, gatherGradScatter } from '../src/graph/rules.ts';
import type { TensorData } from '../src/graph/types.ts';
import { parseModelConfig, type ModelConfig } from '../src/model/config.ts';
import { initParams, paramSpecs } from '../src/model/params.ts';
import { declareParams, forward } from '../src/model/transformer.ts';
import { createSession, runSession, type RuntimeOptions } from '../src/runtime/session.ts';
import { parseLossConfig } from '../src/train/loss.ts';
import { parseOptimizerConfig } from '../src/train/optimizer.ts';

const { values } = parseArgs({
  options: {
    vocab: { type: 'string', default: '49152' }, dModel: { type: 'string', default: '576' }, heads: { type: 'string', default: '9' },
    kvHeads: { type: 'string', default: '3' }, ffn: { type: 'string', default: '1536' }, layers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '4' }, length: { type: 'string', default: '128' }, microBatchTokens: { type: 'string', default: '0' },
    prefillBatch: { type: 'string', default: '4' }, prefillLength: { type: 'string', default: '256' }, embedTokens: { type: 'string', default: '2048' },
    steps: { type: 'string', default: '3' }, threads: { type: 'string', default: '0' }, cases: { type: 'string' }, rounds: { type: 'string', default: '3' }, child: { type: 'string' },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);
const B = n('batch');
const T = n('length');
const config = parseModelConfig({
  vocabSize: n('vocab'), dModel: n('dModel'), heads: n('heads'), kvHeads: n('kvHeads'), ffn: n('ffn'), layers: n('layers'),
  context: Math.max(T + 1, n('prefillLength')), activation: 'swiglu', tieEmbeddings: true, ropeTheta: 1e5, seed: 1,
});
const runtime: RuntimeOptions = { threads: n('threads') || undefined };
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One warm-up, then the median of --steps timed runs. */
async function timed(run: () => Promise<unknown>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < n('steps'); i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function runGraph(g: Graph, feeds: Record<string, TensorData>): Promise<number> {
  const session = await createSession(serialize(g), runtime);
  try {
    return await timed(() => runSession(session, feeds));
  } finally {
    await session.release();
  }
}

function paramFeeds(c: ModelConfig): Record<string, TensorData> {
  const params = initParams(c);
  return Object.fromEntries(paramSpecs(c).map((p) => [p.name, { dtype: 'float32', shape: p.shape, data: params.get(p.name)! } as TensorData]));
}

async function embedGrad(form: 'onehot' | 'scatter'): Promise<number> {
  const N = n('embedTokens');
  const [V, d] = [config.vocabSize, config.dModel];
  const g = new Graph('float32');
  const table = g.input('table', 'float32', [V, d]);
  const ids = g.input('ids', 'int64', [N]);
  const gy = g.input('gy', 'float32', [N, d]); // the gradient arriving at the gathered rows
  g.output((form === 'onehot' ? gatherGradOneHot : gatherGradScatter)(g, table, ids, gy), 'grad');
  return runGraph(g, {
    table: { dtype: 'float32', shape: [V, d], data: new Float32Array(V * d) },
    ids: { dtype: 'int64', shape: [N], data: BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7919) % V)) },
    gy: { dtype: 'float32', shape: [N, d], data: Float32Array.from({ length: N * d }, (_, i) => ((i % 13) - 6) / 13) },
  });
}

async function prefill(which: 'all' | 'last'): Promise<number> {
  const [PB, PT] = [n('prefillBatch'), n('prefillLength')];
  let g: Graph;
  if (which === 'last') g = buildPrefillGraph(config, PB, PT);
  else {
    // The prefill graph before: logits [B,T,V] at every position, keys and values.
    g = new Graph('float32');
    const f = forward(g, config, declareParams(g, config), g.input('ids', 'int64', [PB, PT]));
    g.output(f.logits, 'logits');
    f.keys.forEach((k, l) => g.output(k, `k${l}`));
    f.values.forEach((v, l) => g.output(v, `v${l}`));
  }
  const feeds: Record<string, TensorData> = {
    ...paramFeeds(config),
    ids: { dtype: 'int64', shape: [PB, PT], data: BigInt64Array.from({ length: PB * PT }, (_, i) => BigInt((i * 31) % config.vocabSize)) },
  };
  if (which === 'last') feeds.last = { dtype: 'int64', shape: [PB], data: BigInt64Array.from({ length: PB }, (_, r) => BigInt(r * PT + PT - 1)) };
  return runGraph(g, feeds);
}

async function sample(which: 'sort' | 'select'): Promise<number> {
  const V = config.vocabSize;
  let seed = 3;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const rows = Array.from({ length: 16 }, () => Float32Array.from({ length: V }, () => (rand() + rand() + rand() - 1.5) * 8));
  const draw = uniform(1);
  const fn = which === 'sort' ? referenceSampleToken : sampleToken;
  const ms = await timed(async () => { for (let k = 0; k < 4; k++) for (const r of rows) fn(r, { temperature: 0.7, topP: 0.9 }, draw); });
  return ms / 64;
}

async function step(which: 'old' | 'new' | 'micro'): Promise<number> {
  if (which === 'old') {
    // The engine before, reproduced in this process only: Gather's gradient as a one-hot MatMul
    // at every table size (and, below, every sample constrained, so the step is fed a [B,T,V] mask).
    GRADIENT_RULES.Gather = ({ g, x: [table, idx], gy }) => [gatherGradOneHot(g, table!, idx!, gy), undefined];
  }
  const micro = which === 'micro' ? n('microBatchTokens') || (B * T) / 4 : undefined;
  const engine = new EngineCore(config, runtime);
  engine.configureTraining(parseLossConfig({ kind: 'ppo', entropyCoef: 0.01 }), parseOptimizerConfig({ lr: 1e-5, ...(micro ? { microBatchTokens: micro } : {}) }));
  let seed = 1;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const everything = which === 'old' ? [...Array(config.vocabSize).keys()] : undefined;
  const samples: TrainSample[] = Array.from({ length: B }, () => {
    const tokens = Array.from({ length: T + 1 }, () => Math.floor(rand() * config.vocabSize));
    return {
      tokens, mask: tokens.map((_, i) => (i === 0 ? 0 : 1)), advantage: rand() - 0.5, logprobs: tokens.map(() => -Math.log(config.vocabSize)),
      ...(everything ? { allowed: tokens.map((_, i) => (i === 1 ? everything : null)) } : {}),
    };
  });
  try {
    return await timed(() => engine.trainStep(samples));
  } finally {
    await engine.close();
  }
}

const CASES: Record<string, () => Promise<number>> = {
  'embedGrad:onehot': () => embedGrad('onehot'), 'embedGrad:scatter': () => embedGrad('scatter'),
  'prefill:all': () => prefill('all'), 'prefill:last': () => prefill('last'),
  'sample:sort': () => sample('sort'), 'sample:select': () => sample('select'),
  'step:old': () => step('old'), 'step:new': () => step('new'), 'step:micro': () => step('micro'),
};

if (values.child) {
  const ms = await CASES[values.child]!();
  console.log(JSON.stringify({ ms: +ms.toFixed(ms < 10 ? 2 : 1), peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
} else {
  const self = fileURLToPath(import.meta.url);
  const flags = process.argv.slice(2);
  const chosen = values.cases ? values.cases.split(',') : Object.keys(CASES);
  const bad = chosen.find((c) => !CASES[c]);
  if (bad) throw new Error(`unknown case ${bad}; cases: ${Object.keys(CASES).join(', ')}`);
  const runs: Record<string, { ms: number; peakRssMB: number }[]> = {};
  for (let round = 0; round < n('rounds'); round++) {
    for (const name of chosen) {
      const res = spawnSync(process.execPath, ['--import', 'tsx', self, ...flags, '--child', name], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (res.status !== 0) throw new Error(`${name} failed: ${res.stderr}`);
      (runs[name] ??= []).push(JSON.parse(res.stdout.trim().split('\n').at(-1)!));
    }
  }
  const cases = Object.fromEntries(Object.entries(runs).map(([k, rs]) => [k, {
    ms: median(rs.map((r) => r.ms)), peakRssMB: Math.max(...rs.map((r) => r.peakRssMB)), rounds: rs.map((r) => r.ms),
  }]));
  const ratio = (a: string, b: string, k: 'ms' | 'peakRssMB') => (cases[a] && cases[b] ? +(cases[a][k] / cases[b][k]).toFixed(2) : undefined);
  console.log(JSON.stringify({
    bench: 'large-vocab',
    config: {
      vocab: config.vocabSize, dModel: config.dModel, heads: config.heads, kvHeads: config.kvHeads, ffn: config.ffn, layers: config.layers,
      step: `${B}x${T}`, microBatchTokens: n('microBatchTokens') || (B * T) / 4, prefill: `${n('prefillBatch')}x${n('prefillLength')}`,
      embedTokens: n('embedTokens'), steps: n('steps'), rounds: n('rounds'), threads: runtime.threads ?? 'default',
    },
    cases,
    ratios: {
      embedGradTime: ratio('embedGrad:onehot', 'embedGrad:scatter', 'ms'), embedGradRss: ratio('embedGrad:onehot', 'embedGrad:scatter', 'peakRssMB'),
      prefillTime: ratio('prefill:all', 'prefill:last', 'ms'), prefillRss: ratio('prefill:all', 'prefill:last', 'peakRssMB'),
      sampleTime: ratio('sample:sort', 'sample:select', 'ms'),
      stepTime: ratio('step:old', 'step:new', 'ms'), stepRss: ratio('step:old', 'step:new', 'peakRssMB'),
      microStepTime: ratio('step:micro', 'step:new', 'ms'), microStepRss: ratio('step:micro', 'step:new', 'peakRssMB'),
    },
  }));
}
