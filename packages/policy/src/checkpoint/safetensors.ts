/**
 * safetensors codec (https://github.com/huggingface/safetensors, "Format" section):
 *
 *   [8 bytes]  N, unsigned 64-bit little-endian: size of the header
 *   [N bytes]  UTF-8 JSON object, starting with `{`, trailing-padded with spaces (0x20)
 *              { "__metadata__": { string: string }?,
 *                name: { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ... }
 *   [rest]     byte buffer; offsets are relative to its start; little-endian, row-major
 *
 * The encoder writes the same layout as the reference (Rust/Python) implementation: tensors laid
 * out by element size descending, then by name, so that every tensor is naturally aligned in the
 * file; header entries in data order after `__metadata__`; header padded to 8 bytes. For a given
 * set of tensors and metadata the output is byte-for-byte deterministic.
 *
 * The decoder validates like the reference: the buffer must be covered exactly (no overlap, no
 * hole, no trailing bytes) and every tensor's byte size must match dtype × shape. Decoded arrays
 * are fresh, aligned copies, never views into the input.
 */
import { CheckpointError, ConfigError, ShapeError } from '../errors.ts';
import type { DType, Shape, TypedArray } from '../graph/types.ts';

/**
 * Element types a checkpoint can hold: the graph dtypes, raw bytes, and the two 16-bit floats
 * Hugging Face checkpoints ship in (kept as raw bit patterns in a Uint16Array; widen them with
 * `hf/dtype.ts`).
 */
export type CheckpointDType = DType | 'uint8' | 'bfloat16' | 'float16';

/** A tensor as stored in a checkpoint. Every graph `TensorData` is one. */
export interface CheckpointTensor {
  readonly dtype: CheckpointDType;
  readonly shape: Shape;
  readonly data: TypedArray | Uint16Array;
}

export interface DecodedSafetensors {
  readonly tensors: Record<string, CheckpointTensor>;
  readonly metadata: Record<string, string>;
}

/** The reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

interface DTypeInfo {
  readonly tag: string;
  readonly size: number;
  /** Layout rank, as the reference sorts (I64 > F64 > F32 > I32 > BF16 > F16 > U8 > BOOL). */
  readonly rank: number;
  readonly make: (buffer: ArrayBuffer, length: number) => TypedArray | Uint16Array;
  readonly accepts: (data: TypedArray | Uint16Array) => boolean;
}

const DTYPES: Readonly<Record<CheckpointDType, DTypeInfo>> = {
  int64: { tag: 'I64', size: 8, rank: 5, make: (b, n) => new BigInt64Array(b, 0, n), accepts: (d) => d instanceof BigInt64Array },
  float64: { tag: 'F64', size: 8, rank: 4, make: (b, n) => new Float64Array(b, 0, n), accepts: (d) => d instanceof Float64Array },
  float32: { tag: 'F32', size: 4, rank: 3, make: (b, n) => new Float32Array(b, 0, n), accepts: (d) => d instanceof Float32Array },
  int32: { tag: 'I32', size: 4, rank: 2, make: (b, n) => new Int32Array(b, 0, n), accepts: (d) => d instanceof Int32Array },
  bfloat16: { tag: 'BF16', size: 2, rank: 1.6, make: (b, n) => new Uint16Array(b, 0, n), accepts: (d) => d instanceof Uint16Array },
  float16: { tag: 'F16', size: 2, rank: 1.5, make: (b, n) => new Uint16Array(b, 0, n), accepts: (d) => d instanceof Uint16Array },
  uint8: { tag: 'U8', size: 1, rank: 1, make: (b, n) => new Uint8Array(b, 0, n), accepts: (d) => d instanceof Uint8Array },
  bool: { tag: 'BOOL', size: 1, rank: 0, make: (b, n) => new Uint8Array(b, 0, n), accepts: (d) => d instanceof Uint8Array },
};

const BY_TAG: ReadonlyMap<string, CheckpointDType> = new Map(
  (Object.keys(DTYPES) as CheckpointDType[]).map((d) => [DTYPES[d].tag, d]),
);

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Byte order of UTF-8 encodings, i.e. code point order (what Rust's `String::cmp` gives). */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Reverse each `size`-byte element in place (only used on big-endian hosts). */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

function elementCount(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function validDims(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** Encode tensors and string metadata as a safetensors file. */
export function encodeSafetensors(
  tensors: Readonly<Record<string, CheckpointTensor>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const issues: { path: string; message: string }[] = [];
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') issues.push({ path: `/${METADATA_KEY}/${k}`, message: 'metadata values must be strings' });
  }
  for (const name of Object.keys(tensors)) {
    if (name === '') issues.push({ path: '/', message: 'tensor names must not be empty' });
    if (name === METADATA_KEY) issues.push({ path: `/${name}`, message: `'${METADATA_KEY}' is reserved` });
  }
  if (issues.length) throw new ConfigError('safetensors content', issues);

  const entries = Object.entries(tensors).map(([name, t]) => {
    const info = DTYPES[t.dtype];
    if (!info) throw new ShapeError(name, `unsupported dtype '${String(t.dtype)}'`);
    if (!validDims(t.shape)) throw new ShapeError(name, `shape ${JSON.stringify(t.shape)} must list non-negative integers`);
    if (!info.accepts(t.data)) throw new ShapeError(name, `dtype ${t.dtype} cannot hold a ${t.data?.constructor?.name}`);
    const count = elementCount(t.shape);
    if (t.data.length !== count) {
      throw new ShapeError(name, `shape [${t.shape.join(', ')}] needs ${count} elements but data has ${t.data.length}`);
    }
    if (t.dtype === 'bool') {
      const bad = (t.data as Uint8Array).findIndex((b) => b > 1);
      if (bad >= 0) throw new ShapeError(name, `bool tensor holds byte ${t.data[bad]} at index ${bad}; expected 0 or 1`);
    }
    return { name, t, info, bytes: t.data.byteLength };
  });
  entries.sort((a, b) => b.info.rank - a.info.rank || compareNames(a.name, b.name));

  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort(compareNames);
  if (metaKeys.length) {
    parts.push(`"${METADATA_KEY}":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  const placed = entries.map((e) => {
    const begin = offset;
    offset += e.bytes;
    parts.push(`${JSON.stringify(e.name)}:{"dtype":"${e.info.tag}","shape":${JSON.stringify(e.t.shape)},"data_offsets":[${begin},${offset}]}`);
    return { ...e, begin };
  });
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  const base = 8 + headerLength;
  for (const e of placed) {
    const d = e.t.data;
    const target = out.subarray(base + e.begin, base + e.begin + e.bytes);
    target.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    if (!LITTLE_ENDIAN_HOST) swapBytes(target, e.info.size);
  }
  return out;
}

function fail(message: string): never {
  throw new CheckpointError(`safetensors: ${message}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes is too short for the 8-byte header length (truncated file?)`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n64 < 2n) fail(`header length ${n64} is too small for a JSON object`);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt length prefix?)`);
  const n = Number(n64);
  if (8 + n > bytes.byteLength) {
    fail(`header length ${n} exceeds the ${bytes.byteLength - 8} bytes after the length prefix (truncated file?)`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header must start with '{', found ${JSON.stringify(text.slice(0, 1))}`);
  const trimmed = text.replace(/ +$/, '');
  if (!trimmed.endsWith('}')) fail('header JSON must end with \'}\' followed only by space padding');
  let header: unknown;
  try {
    header = JSON.parse(trimmed);
  } catch (e) {
    fail(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(header)) fail('header must be a JSON object');
  return { header, dataStart: 8 + n };
}

interface Entry {
  readonly name: string;
  readonly dtype: CheckpointDType;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

function parseEntry(name: string, raw: unknown, bufferLength: number): Entry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(raw)) fail(`${where}: entry must be an object`);
  const extra = Object.keys(raw).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
  if (extra.length) fail(`${where}: unknown field(s) ${extra.map((k) => JSON.stringify(k)).join(', ')}`);
  const dtype = typeof raw.dtype === 'string' ? BY_TAG.get(raw.dtype) : undefined;
  if (!dtype) fail(`${where}: unknown or unsupported dtype ${JSON.stringify(raw.dtype)} (supported: ${[...BY_TAG.keys()].join(', ')})`);
  if (!validDims(raw.shape)) fail(`${where}: shape ${JSON.stringify(raw.shape)} must be an array of non-negative integers`);
  const offs = raw.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`${where}: data_offsets ${JSON.stringify(offs)} must be [begin, end] with non-negative integers`);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > bufferLength) {
    fail(`${where}: data_offsets [${begin}, ${end}] run past the ${bufferLength}-byte data buffer (truncated file?)`);
  }
  const count = elementCount(raw.shape);
  const expected = count * DTYPES[dtype].size;
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    fail(`${where}: shape [${raw.shape.join(', ')}] of ${raw.dtype} needs ${expected} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape: raw.shape, begin, end };
}

/** Decode and validate a safetensors file. Throws CheckpointError on any inconsistency. */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  const { header, dataStart } = parseHeader(bytes);
  const data = bytes.subarray(dataStart);
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(raw)) fail(`${METADATA_KEY} must be an object of strings`);
      const bad = Object.entries(raw).find(([, v]) => typeof v !== 'string');
      if (bad) fail(`${METADATA_KEY}.${bad[0]} must be a string, got ${JSON.stringify(bad[1])}`);
      metadata = Object.fromEntries(Object.entries(raw as Record<string, string>));
    } else {
      entries.push(parseEntry(name, raw, data.length));
    }
  }

  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of byOffset) {
    if (e.begin < covered) fail(`tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (ends at ${covered})`);
    if (e.begin > covered) fail(`bytes [${covered}, ${e.begin}) of the data buffer belong to no tensor`);
    covered = e.end;
  }
  if (covered !== data.length) fail(`${data.length - covered} trailing bytes after the last tensor (ends at ${covered})`);

  const tensors = entries.sort((a, b) => compareNames(a.name, b.name)).map((e): [string, CheckpointTensor] => {
    const info = DTYPES[e.dtype];
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(data.subarray(e.begin, e.end));
    if (!LITTLE_ENDIAN_HOST) swapBytes(copy, info.size);
    if (e.dtype === 'bool') {
      const bad = copy.findIndex((b) => b > 1);
      if (bad >= 0) fail(`tensor ${JSON.stringify(e.name)}: BOOL element ${bad} is byte ${copy[bad]}; expected 0 or 1`);
    }
    return [e.name, { dtype: e.dtype, shape: e.shape, data: info.make(copy.buffer, copy.length / info.size) }];
  });
  return { tensors: Object.fromEntries(tensors), metadata };
}
