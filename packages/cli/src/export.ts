/**
 * `spar export`: a policy's weights as a Hugging Face model folder (@spar/policy's writeHfModel),
 * read from disk only (no controller, no Redis).
 *
 * Weights: `--from DIR`, any folder readSourceWeights reads (a checkpoint, a checkpoints folder:
 * its newest, an ONNX export folder); else the experiment's folder `<data dir>/<id>`: its newest
 * checkpoint (`checkpoints/`, the unnamed policy's), else its export (`export/`). The data dir is
 * `--data-dir`, else $SPAR_DATA_DIR, else `runs` (the learner's default); local mode's per-run
 * folders `<data dir>/<run>/<id>` (runs/local-<time>/<id>) are searched too.
 *
 * Tokenizer: `--tokenizer DIR`, a Hugging Face tokenizer folder (its files are copied; the folder
 * of the model an experiment was imported from: the import does not record it) or a folder whose
 * tokenizer.json is spar's vocabulary (spar-vocab/1, an ONNX export's); else the tokenizer of the
 * experiment's export, or of `--from` when it is an export: spar's vocabulary, or the imported
 * model's own files that an experiment with warmStart.from: hf exports; else none (weights only).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { HfModelType, Vocabulary } from '@spar/policy';

/** @spar/policy, loaded by the export alone: the other commands never load the engine (onnxruntime-node). */
type PolicyLib = typeof import('@spar/policy');

export const EXPORT_FORMATS = ['hf', 'peft'] as const;

export interface ExportCommand {
  readonly experimentId?: string;
  readonly format?: string;
  readonly out?: string;
  readonly from?: string;
  readonly tokenizer?: string;
  readonly dataDir?: string;
  readonly dtype?: string;
  readonly modelType?: string;
}

export interface ExportSummary {
  readonly out: string;
  /** The folder the weights were read from. */
  readonly from: string;
  readonly modelType: HfModelType;
  readonly dtype: 'float32' | 'bfloat16';
  /** Where the tokenizer files came from: a Hugging Face folder, spar's vocabulary, or none. */
  readonly tokenizer: { readonly kind: 'copied' | 'vocabulary' | 'none'; readonly from?: string };
  readonly files: readonly string[];
}

const isDir = async (p: string) => (await stat(p).catch(() => undefined))?.isDirectory() === true;

/** `<dataDir>/<id>`, or the one `<dataDir>/<run>/<id>` of local mode. */
async function experimentDir(dataDir: string, id: string): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) throw new Error(`'${id}' is not an experiment id`);
  const direct = join(dataDir, id);
  if (await isDir(direct)) return direct;
  const runs = await readdir(dataDir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const r of runs) if (r.isDirectory() && !r.name.startsWith('.') && (await isDir(join(dataDir, r.name, id)))) found.push(join(dataDir, r.name, id));
  if (found.length === 1) return found[0]!;
  if (found.length > 1) throw new Error(`experiment ${id} is in several run folders (${found.join(', ')}); pass --from`);
  throw new Error(`unknown experiment ${id}: no folder ${direct} (nor ${join(dataDir, '*', id)}); pass --data-dir (the learner's SPAR_DATA_DIR) or --from`);
}

/** The spar vocabulary in `dir`/tokenizer.json, undefined when that file is absent or not spar's. */
async function sparVocabulary(P: PolicyLib, dir: string): Promise<Vocabulary | undefined> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if ((json as { format?: unknown })?.format !== P.VOCAB_FORMAT) return undefined;
  return P.Vocabulary.fromJSON(json);
}

/** `--format peft`: a LoRA policy's adapters, unmerged, as a PEFT adapter folder (no tokenizer: the base model's). */
async function exportPeft(P: PolicyLib, source: string, out: string, o: ExportCommand): Promise<ExportSummary> {
  if (o.modelType !== undefined || o.tokenizer !== undefined) throw new Error('--model-type and --tokenizer do not apply to --format peft (an adapter folder loads onto its base model)');
  const adapters = await P.readLoraAdapters(source);
  const dtype = (o.dtype ?? 'float32') as 'float32' | 'bfloat16';
  const result = await P.writePeftAdapter(out, { config: adapters.config, adapters: adapters.params, dtype });
  return { out: result.dir, from: adapters.from, modelType: P.hfModelTypeFor(P.baseConfig(adapters.config)), dtype, tokenizer: { kind: 'none' }, files: result.files };
}

/** Writes the export; throws an Error saying what is wrong (unknown experiment, no checkpoint, bad option). */
export async function runExport(o: ExportCommand): Promise<ExportSummary> {
  if (o.format === undefined) throw new Error(`--format is required (supported: ${EXPORT_FORMATS.join(', ')})`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(o.format)) throw new Error(`unknown --format '${o.format}' (supported: ${EXPORT_FORMATS.join(', ')})`);
  if (!o.out) throw new Error('--out DIR is required (a folder that does not exist yet, or an empty one)');
  if (o.dtype !== undefined && o.dtype !== 'float32' && o.dtype !== 'bfloat16') throw new Error(`unknown --dtype '${o.dtype}' (float32 or bfloat16)`);
  if (!o.from && !o.experimentId) throw new Error('name an experiment id, or --from DIR');
  const P: PolicyLib = await import('@spar/policy');
  if (o.modelType !== undefined && !(P.HF_MODEL_TYPES as readonly string[]).includes(o.modelType)) {
    throw new Error(`unknown --model-type '${o.modelType}' (${P.HF_MODEL_TYPES.join(', ')})`);
  }

  let source: string;
  let vocabFrom: string | undefined;
  if (o.from) {
    source = o.from;
    vocabFrom = o.from;
  } else {
    const exp = await experimentDir(o.dataDir ?? 'runs', o.experimentId!);
    const [checkpoints, exported] = [join(exp, 'checkpoints'), join(exp, 'export')];
    if ((await P.latestCheckpoint(checkpoints)) !== undefined) source = checkpoints;
    else if (await isDir(exported)) source = exported;
    else throw new Error(`experiment ${o.experimentId} (${exp}) has no checkpoint in ${checkpoints} and no export in ${exported} yet`);
    vocabFrom = exported;
  }
  if (o.format === 'peft') return exportPeft(P, source, resolve(o.out), o);
  const weights = await P.readSourceWeights(source);

  let tokenizerDir: string | undefined;
  let vocabulary: Vocabulary | undefined;
  let tokenizerFrom: string | undefined;
  if (o.tokenizer !== undefined) {
    vocabulary = await sparVocabulary(P, o.tokenizer);
    if (!vocabulary) tokenizerDir = o.tokenizer;
    tokenizerFrom = o.tokenizer;
  } else if ((vocabulary = await sparVocabulary(P, vocabFrom))) {
    tokenizerFrom = vocabFrom;
  } else if ((await stat(join(vocabFrom, 'tokenizer.json')).catch(() => undefined))?.isFile()) {
    tokenizerDir = tokenizerFrom = vocabFrom; // an imported model's tokenizer, copied into the export by the learner
  }
  const dtype = (o.dtype ?? 'float32') as 'float32' | 'bfloat16';
  const result = await P.writeHfModel(resolve(o.out), {
    config: weights.config, params: weights.params, dtype,
    ...(o.modelType ? { modelType: o.modelType as HfModelType } : {}),
    ...(tokenizerDir !== undefined ? { tokenizerDir } : {}),
    ...(vocabulary ? { vocabulary } : {}),
  });
  return {
    out: result.dir, from: weights.from, modelType: result.modelType, dtype,
    tokenizer: { kind: result.tokenizer, ...(tokenizerFrom !== undefined ? { from: tokenizerFrom } : {}) },
    files: result.files,
  };
}
