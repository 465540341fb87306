// spar's engine logits for a few random token sequences, from any model folder spar reads: a
// checkpoint, a checkpoints folder or an ONNX export (readSourceWeights), or a Hugging Face folder
// (readHfModel). Writes {"ids": [[...]], "logits": [[[...]]]} for check_export.py.
//
//   npx tsx scripts/hf-fixtures/spar-logits.ts SOURCE OUT.json [--rows 2] [--length 16] [--seed 1]
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readHfModel, readSourceWeights } from '@spar/policy';
import { engineLogits } from '../../packages/policy/test/engine-logits.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rows: { type: 'string' }, length: { type: 'string' }, seed: { type: 'string' } } });
const [source, out] = positionals;
if (!source || !out) throw new Error('usage: spar-logits.ts SOURCE OUT.json [--rows N] [--length T] [--seed S]');

const isHf = await readFile(join(source, 'config.json'), 'utf8').then((t) => 'model_type' in (JSON.parse(t) as object), () => false);
const { config: c, params } = isHf ? await readHfModel(source) : await readSourceWeights(source);
const B = Number(values.rows ?? 2);
const T = Math.min(Number(values.length ?? 16), c.context);
let s = Number(values.seed ?? 1) >>> 0;
const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
const ids = Array.from({ length: B }, () => Array.from({ length: T }, () => next() % c.vocabSize));

const logits = await engineLogits(c, params, ids);
const V = c.vocabSize;
const nested = ids.map((_, b) => Array.from({ length: T }, (_, t) => Array.from(logits.subarray((b * T + t) * V, (b * T + t + 1) * V))));
await writeFile(out, JSON.stringify({ source, ids, logits: nested }));
console.log(JSON.stringify({ source, model: isHf ? 'hf' : 'spar', rows: B, length: T, out }));
