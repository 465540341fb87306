/**
 * Checkpoints on disk. A checkpoint is a folder holding
 *
 *   model.safetensors  tensors; `__metadata__.spar` is the metadata as canonical JSON
 *   checkpoint.json    { format: "spar-checkpoint/1", sha256, bytes, metadata, tensors: {name: {dtype, shape}} }
 *
 * Saving is atomic: both files are written (and fsynced) into a hidden sibling temp folder that is
 * renamed onto the final name, then the parent folder is fsynced. A crash (kill -9, power loss)
 * leaves either the complete checkpoint or no folder under the final name, plus at worst a
 * `.<name>.tmp-*` leftover, which listings ignore. Checkpoints are immutable: saving onto a
 * complete checkpoint fails. Loading verifies the sha256 recorded in checkpoint.json.
 *
 * A run's checkpoints live under one root as `step-000000123/` folders (see `checkpointDir`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError, ConfigError, ShapeError } from '../errors.ts';
import type { DType, Shape, TensorData, TypedArray } from '../graph/types.ts';
import { compareNames, decodeSafetensors, encodeSafetensors, type CheckpointDType, type CheckpointTensor } from './safetensors.ts';

export const CHECKPOINT_FORMAT = 'spar-checkpoint/1';
export const MODEL_FILE = 'model.safetensors';
export const MANIFEST_FILE = 'checkpoint.json';
/** Key under safetensors `__metadata__` holding the checkpoint metadata as JSON. */
export const METADATA_KEY = 'spar';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface CheckpointContent {
  readonly tensors: Readonly<Record<string, CheckpointTensor>>;
  /** JSON-serialisable (model config, step, rng state, cursors, ...). Keys are stored sorted. */
  readonly metadata: object;
}

export interface CheckpointManifest {
  readonly format: typeof CHECKPOINT_FORMAT;
  /** Hex sha256 of model.safetensors. */
  readonly sha256: string;
  /** Size of model.safetensors in bytes. */
  readonly bytes: number;
  readonly metadata: JsonObject;
  readonly tensors: Record<string, { dtype: CheckpointDType; shape: number[] }>;
}

export interface SavedCheckpoint {
  readonly dir: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface LoadedCheckpoint {
  readonly tensors: Record<string, CheckpointTensor>;
  readonly metadata: JsonObject;
  readonly sha256: string;
}

export interface CheckpointRef {
  readonly step: number;
  readonly dir: string;
  /** The fencing token of the claim that wrote it (`step-…-f<token>`); absent for unfenced folders. */
  readonly fence?: number;
}

/** Hex sha256 of some bytes. */
export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A copy of `value` with object keys sorted, so equal content gives equal bytes. Honours `toJSON`
 * like JSON.stringify; rejects what JSON would silently drop or mangle (undefined, functions,
 * bigint, NaN/±Inf, Maps, class instances, cycles) with a ConfigError naming the path.
 */
export function canonicalJson(value: unknown, what = 'checkpoint metadata'): JsonValue {
  const stack = new Set<object>();
  const bad = (path: string, message: string): never => {
    throw new ConfigError(what, [{ path, message }]);
  };
  const walk = (v: unknown, path: string, key: string): JsonValue => {
    if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
    }
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : bad(path, `${v} is not representable in JSON`);
    if (typeof v !== 'object') return bad(path, `a ${typeof v} is not JSON-serialisable`);
    if (stack.has(v)) return bad(path, 'circular reference');
    stack.add(v);
    let out: JsonValue;
    if (Array.isArray(v)) {
      out = v.map((x, i) => walk(x, `${path}/${i}`, String(i)));
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) bad(path, `a ${v.constructor?.name ?? 'non-plain object'} is not JSON-serialisable`);
      const keys = Object.keys(v).sort(compareNames);
      out = Object.fromEntries(keys.map((k) => [k, walk((v as Record<string, unknown>)[k], `${path}/${k}`, k)]));
    }
    stack.delete(v);
    return out;
  };
  return walk(value, '', '');
}

function canonicalObject(value: unknown, what?: string): JsonObject {
  const v = canonicalJson(value, what);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ConfigError(what ?? 'checkpoint metadata', [{ path: '/', message: 'must be a JSON object' }]);
  }
  return v;
}

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException)?.code;

async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a folder so renames inside it are durable (a no-op where the platform refuses). */
async function syncDir(path: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'r');
    await fh.sync();
  } catch (e) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES'].includes(errno(e) ?? '')) throw e;
  } finally {
    await fh?.close();
  }
}

const tempSuffix = () => `${process.pid}-${randomBytes(4).toString('hex')}`;

/** Atomically write a checkpoint folder at `dir` (which must not hold a checkpoint yet). */
export async function saveCheckpoint(dir: string, content: CheckpointContent): Promise<SavedCheckpoint> {
  const metadata = canonicalObject(content.metadata);
  const bytes = encodeSafetensors(content.tensors, { [METADATA_KEY]: JSON.stringify(metadata) });
  const sha256 = contentHash(bytes);
  const tensors = Object.fromEntries(Object.keys(content.tensors).sort(compareNames).map((name) => {
    const t = content.tensors[name]!;
    return [name, { dtype: t.dtype, shape: [...t.shape] }];
  }));
  const manifest: CheckpointManifest = { format: CHECKPOINT_FORMAT, sha256, bytes: bytes.length, metadata, tensors };

  const target = resolve(dir);
  if (await exists(join(target, MANIFEST_FILE))) throw new CheckpointError(`checkpoint ${target} already exists`);
  await writeFolderAtomic(target, { [MODEL_FILE]: bytes, [MANIFEST_FILE]: `${JSON.stringify(manifest, null, 2)}\n` }, 'checkpoint');
  return { dir: target, sha256, bytes: bytes.length };
}

/**
 * Write `files` (name → content) as the folder `dir`, all or nothing: into a hidden sibling
 * `.<name>.tmp-*` (each file fsynced, then the folder), renamed onto `dir`, then the parent
 * fsynced. `dir` must not exist or be an empty folder; otherwise a CheckpointError names it (as a
 * `what`) and nothing is left behind. A crash leaves the whole folder or none (plus at worst the
 * temp folder, which listings ignore).
 */
export async function writeFolderAtomic(dir: string, files: Readonly<Record<string, Uint8Array | string>>, what: string): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const temp = join(parent, `.${basename(target)}.tmp-${tempSuffix()}`);
  try {
    await mkdir(temp);
    for (const [name, data] of Object.entries(files)) await writeDurable(join(temp, name), data);
    await syncDir(temp);
    try {
      await rename(temp, target);
    } catch (e) {
      if (['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR'].includes(errno(e) ?? '')) {
        throw new CheckpointError(`cannot save ${what}: ${target} already exists and is not an empty folder`);
      }
      throw e;
    }
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
  await syncDir(parent);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return false;
    throw e;
  }
}

async function readRequired(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') throw new CheckpointError(`missing ${path}`);
    throw e;
  }
}

function parseManifest(text: string, path: string): CheckpointManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const problem = !isObj(m) ? 'must be a JSON object'
    : m.format !== CHECKPOINT_FORMAT ? `format ${JSON.stringify(m.format)} is not ${JSON.stringify(CHECKPOINT_FORMAT)}`
    : typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256) ? 'sha256 must be 64 lowercase hex digits'
    : !Number.isSafeInteger(m.bytes) || (m.bytes as number) < 0 ? 'bytes must be a non-negative integer'
    : !isObj(m.metadata) ? 'metadata must be an object'
    : !isObj(m.tensors) || !Object.values(m.tensors).every((t) => isObj(t) && typeof t.dtype === 'string' && Array.isArray(t.shape))
      ? 'tensors must map names to {dtype, shape}'
    : undefined;
  if (problem) throw new CheckpointError(`${path}: ${problem}`);
  return m as unknown as CheckpointManifest;
}

/** Load and verify a checkpoint folder written by `saveCheckpoint`. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const manifestPath = join(dir, MANIFEST_FILE);
  const modelPath = join(dir, MODEL_FILE);
  const manifest = parseManifest((await readRequired(manifestPath)).toString('utf8'), manifestPath);
  const bytes = await readRequired(modelPath);
  if (bytes.length !== manifest.bytes) {
    throw new CheckpointError(`${modelPath}: ${bytes.length} bytes, checkpoint.json records ${manifest.bytes} (truncated or replaced?)`);
  }
  const sha256 = contentHash(bytes);
  if (sha256 !== manifest.sha256) {
    throw new CheckpointError(`${modelPath}: sha256 ${sha256} does not match checkpoint.json (${manifest.sha256}); file is corrupt`);
  }
  let decoded;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    throw e instanceof CheckpointError ? new CheckpointError(`${modelPath}: ${e.message}`) : e;
  }
  const embedded = decoded.metadata[METADATA_KEY];
  if (embedded === undefined) throw new CheckpointError(`${modelPath}: no __metadata__.${METADATA_KEY} entry`);
  let metadata: JsonObject;
  try {
    metadata = canonicalObject(JSON.parse(embedded));
  } catch (e) {
    throw new CheckpointError(`${modelPath}: __metadata__.${METADATA_KEY} is not a JSON object (${(e as Error).message})`);
  }
  if (JSON.stringify(canonicalObject(manifest.metadata)) !== JSON.stringify(metadata)) {
    throw new CheckpointError(`${manifestPath}: metadata differs from the copy inside ${MODEL_FILE}`);
  }
  const names = Object.keys(decoded.tensors);
  const listed = Object.keys(manifest.tensors);
  for (const name of new Set([...names, ...listed])) {
    const t = decoded.tensors[name];
    const m = manifest.tensors[name];
    if (!t || !m || t.dtype !== m.dtype || t.shape.join() !== m.shape.join() || t.shape.length !== m.shape.length) {
      throw new CheckpointError(`${manifestPath}: tensor ${JSON.stringify(name)} differs between checkpoint.json and ${MODEL_FILE}`);
    }
  }
  return { tensors: decoded.tensors, metadata, sha256 };
}

/**
 * The tensor `name` of a loaded checkpoint as graph `TensorData`, checked against the dtype (and
 * shape, when given) the caller expects. Missing → CheckpointError; mismatch → ShapeError.
 */
export function requireTensor(
  tensors: Readonly<Record<string, CheckpointTensor>>, name: string, dtype: DType, shape?: Shape,
): TensorData {
  const t = Object.hasOwn(tensors, name) ? tensors[name] : undefined;
  if (!t) throw new CheckpointError(`checkpoint has no tensor ${JSON.stringify(name)}`);
  if (t.dtype !== dtype) throw new ShapeError(name, `checkpoint holds ${t.dtype}, expected ${dtype}`);
  if (shape && (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i]))) {
    throw new ShapeError(name, `checkpoint holds shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  // dtype is a graph dtype and equals t.dtype, so the data is never a 16-bit float's Uint16Array.
  return { dtype, shape: t.shape, data: t.data as TypedArray };
}

const STEP_DIR = /^step-(\d{9,})(?:-f(\d+))?$/;

/**
 * `<root>/step-000000123`: the folder of the checkpoint taken at `step`; with a fencing token,
 * `<root>/step-000000123-f7`. A learner writes under its own claim's token, so a learner that lost
 * its lease can never overwrite the folder its successor committed for the same step.
 */
export function checkpointDir(root: string, step: number, fence?: number): string {
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new ConfigError('checkpoint step', [{ path: '/step', message: `${step} is not a non-negative integer` }]);
  }
  if (fence !== undefined && (!Number.isSafeInteger(fence) || fence < 0)) {
    throw new ConfigError('checkpoint fence', [{ path: '/fence', message: `${fence} is not a non-negative integer` }]);
  }
  return join(root, `step-${String(step).padStart(9, '0')}${fence !== undefined ? `-f${fence}` : ''}`);
}

/** Complete checkpoints under `root`, oldest first. Temp folders and folders without checkpoint.json are skipped. */
export async function listCheckpoints(root: string): Promise<CheckpointRef[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (e) {
    if (errno(e) === 'ENOENT') return [];
    throw e;
  }
  const refs: CheckpointRef[] = [];
  for (const name of names) {
    const m = STEP_DIR.exec(name);
    const step = m ? Number(m[1]) : NaN;
    const fence = m?.[2] !== undefined ? Number(m[2]) : undefined;
    if (!Number.isSafeInteger(step) || (fence !== undefined && !Number.isSafeInteger(fence)) || name !== basename(checkpointDir(root, step, fence))) continue;
    const dir = join(root, name);
    if (await exists(join(dir, MANIFEST_FILE))) refs.push({ step, dir, ...(fence !== undefined ? { fence } : {}) });
  }
  // Oldest first; at one step, the newest claim last.
  return refs.sort((a, b) => a.step - b.step || (a.fence ?? -1) - (b.fence ?? -1));
}

/** The complete checkpoint with the highest step, or undefined when there is none. */
export async function latestCheckpoint(root: string): Promise<CheckpointRef | undefined> {
  return (await listCheckpoints(root)).at(-1);
}

/**
 * Delete the complete checkpoints with a step above `step` (saved but never committed, e.g. by a
 * learner that lost its lease), and, when `committed` names the folder committed at `step`, every
 * other folder of that step; returns those removed.
 */
export async function discardCheckpointsAbove(root: string, step: number, committed?: string): Promise<CheckpointRef[]> {
  const removed = (await listCheckpoints(root)).filter((r) => r.step > step || (committed !== undefined && r.step === step && basename(r.dir) !== committed));
  await removeAll(root, removed);
  return removed;
}

async function removeAll(root: string, refs: readonly CheckpointRef[]): Promise<void> {
  for (const ref of refs) {
    const doomed = join(root, `.${basename(ref.dir)}.del-${tempSuffix()}`);
    await rename(ref.dir, doomed);
    await rm(doomed, { recursive: true, force: true });
  }
  if (refs.length) await syncDir(root);
}

/**
 * Delete all but the `keep` newest complete checkpoints; returns those removed. Each folder is
 * first renamed to a hidden name (atomic), so listings never see a half-deleted checkpoint.
 */
export async function pruneCheckpoints(root: string, keep: number): Promise<CheckpointRef[]> {
  if (!Number.isSafeInteger(keep) || keep < 1) {
    throw new ConfigError('checkpoint pruning', [{ path: '/keep', message: `${keep} must be an integer >= 1` }]);
  }
  const refs = await listCheckpoints(root);
  const removed = refs.slice(0, Math.max(0, refs.length - keep));
  await removeAll(root, removed);
  return removed;
}
