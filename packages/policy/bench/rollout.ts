// npm run bench:rollout — batched KV-cache generation vs recomputing the whole prefix every step,
// same model, batch and run. Prints {"bench":"rollout","cachedTokensPerSec":N,"uncachedTokensPerSec":N,"ratio":N,
// "samplerMsPerToken":N,"samplerShareOfCached":N}: the sampler's time per token (temperature 1, topP 1, timed in
// the uncached loop, where it runs on the same logits as generate's) and the share of the cached run it makes up.
// `--model <dir>` runs an imported Hugging Face model (src/hf) instead of a fresh spar model
// (its context is set to prompt + new tokens; the model's own layer/width/vocab flags are ignored).
import { parseArgs } from 'node:util';
import { loadHfPolicy, Policy } from '../src/index.ts';
import { sampleToken, uniform } from '../src/generate/sampler.ts';

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '4' }, dModel: { type: 'string', default: '256' }, heads: { type: 'string', default: '8' },
    vocab: { type: 'string', default: '256' }, batch: { type: 'string', default: '16' }, prompt: { type: 'string', default: '16' },
    newTokens: { type: 'string', default: '128' }, threads: { type: 'string', default: '0' }, model: { type: 'string' },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);
const B = n('batch');
const P = n('prompt');
const N = n('newTokens');
const runtime = { worker: false, threads: n('threads') || undefined };
const policy = values.model
  ? (await loadHfPolicy(values.model, { ...runtime, context: P + N })).policy
  : await Policy.create({ layers: n('layers'), dModel: n('dModel'), heads: n('heads'), vocabSize: n('vocab'), context: P + N, seed: 1 }, runtime);
const config = policy.config;
const prompts = Array.from({ length: B }, (_, r) => Array.from({ length: P }, (_, i) => (r * 31 + i * 7) % config.vocabSize));

// Cached: one prefill, then one incremental decode per token (what Policy.generate does).
await policy.generate(prompts, { maxNewTokens: 4, seed: 1 }); // compile sessions
let t0 = performance.now();
const cached = await policy.generate(prompts, { maxNewTokens: N, seed: 1 });
const cachedSec = (performance.now() - t0) / 1000;
const cachedTokens = cached.rows.reduce((s, r) => s + r.tokens.length, 0);

// Uncached: every step re-runs the full forward over prompt + generated prefix (length bucketed by 16).
const engine = policy.engine;
const rand = uniform(1);
let samplerMs = 0;
const seqs = prompts.map((p) => [...p]);
for (let len = P; len < P + N; len += 16) { const { handle } = await engine.prefill(seqs.map((s) => [...s, ...new Array(len - P).fill(0)])); await engine.release(handle); }
t0 = performance.now();
for (let step = 0; step < N; step++) {
  const { handle, logits } = await engine.prefill(seqs);
  await engine.release(handle);
  const s0 = performance.now();
  for (let r = 0; r < B; r++) seqs[r]!.push(sampleToken(logits.subarray(r * config.vocabSize, (r + 1) * config.vocabSize), { temperature: 1, topP: 1 }, rand)!.token);
  samplerMs += performance.now() - s0;
}
const uncachedSec = (performance.now() - t0) / 1000;
await policy.close();
const cachedTokensPerSec = cachedTokens / cachedSec;
const uncachedTokensPerSec = (B * N) / uncachedSec;
console.log(JSON.stringify({
  bench: 'rollout', ...(values.model ? { model: values.model } : {}), config: { ...config, batch: B, promptTokens: P, newTokens: N },
  cachedTokensPerSec: Math.round(cachedTokensPerSec), uncachedTokensPerSec: Math.round(uncachedTokensPerSec),
  ratio: +(cachedTokensPerSec / uncachedTokensPerSec).toFixed(2),
  samplerMsPerToken: +(samplerMs / (B * N)).toFixed(3),
  samplerShareOfCached: +((samplerMs / (B * N)) * cachedTokens / 1000 / cachedSec).toFixed(2),
}));
