// Write a Hugging Face causal LM folder of a given shape with random weights (spar's initParams),
// for benchmarks on an imported model's shape when no hub is reachable. Default: SmolLM2-135M's
// shape (llama; 30 layers, d 576, 9 heads, 3 key/value heads, SwiGLU 1536, vocab 49152, tied
// embeddings, rope_theta 1e5), F32 — about 540 MB. The folder must not exist (writeHfModel).
//
//   npx tsx scripts/hf-fixtures/random-hf-model.ts --out /tmp/smollm2-shape [--layers 30] [--seed 1]
//   npm run bench:rollout -- --model /tmp/smollm2-shape
import { parseArgs } from 'node:util';
import { initParams, parseModelConfig, writeHfModel } from '@spar/policy';

const { values } = parseArgs({
  options: {
    out: { type: 'string' }, layers: { type: 'string', default: '30' }, dModel: { type: 'string', default: '576' },
    heads: { type: 'string', default: '9' }, kvHeads: { type: 'string', default: '3' }, ffn: { type: 'string', default: '1536' },
    vocab: { type: 'string', default: '49152' }, context: { type: 'string', default: '2048' }, seed: { type: 'string', default: '1' },
  },
});
if (!values.out) throw new Error('--out <dir> is required');
const n = (k: keyof typeof values) => Number(values[k]);
const config = parseModelConfig({
  vocabSize: n('vocab'), layers: n('layers'), dModel: n('dModel'), heads: n('heads'), kvHeads: n('kvHeads'), ffn: n('ffn'),
  context: n('context'), activation: 'swiglu', tieEmbeddings: true, ropeTheta: 1e5, seed: n('seed'),
});
const written = await writeHfModel(values.out, { config, params: Object.fromEntries(initParams(config)) });
console.log(JSON.stringify({ dir: written.dir, modelType: written.modelType, files: written.files, config }));
