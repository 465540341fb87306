import type { Graph } from '../graph/graph.ts';
import type { Value } from '../graph/types.ts';
import { type ModelConfig, headDim, kvHeads, ropeTheta } from './config.ts';
import { loraA, loraB, loraScale } from './lora.ts';
import { paramSpecs } from './params.ts';

export type Params = ReadonlyMap<string, Value>;
const NEG = -1e9;

/** Declare every parameter as a graph input (one session serves every policy version). */
export function declareParams(g: Graph, c: ModelConfig, prefix = ''): Map<string, Value> {
  const m = new Map<string, Value>();
  for (const p of paramSpecs(c)) m.set(p.name, g.input(prefix + p.name, g.floatType, p.shape));
  return m;
}

function P(params: Params, name: string): Value {
  const v = params.get(name);
  if (!v) throw new Error(`parameter ${name} missing`);
  return v;
}

/** x [..., k] · w [k, n] as one 2-D product over all leading rows (then the leading shape back). */
export function linear(g: Graph, x: Value, w: Value): Value {
  if (x.shape.length <= 2) return g.matmul(x, w);
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce((a, b) => a * b, 1);
  return g.reshape(g.matmul(g.reshape(x, [rows, x.shape.at(-1)!]), w), [...lead, w.shape[1]!]);
}

/**
 * The projection `name` (a [in, out] weight) of x; with a LoRA adapter on it among `params`, plus
 * (alpha/rank)·(x·A)·B. Graphs built for a model's base (baseConfig) have no adapters: the base's projection.
 */
function projection(g: Graph, c: ModelConfig, params: Params, name: string, x: Value): Value {
  const y = linear(g, x, P(params, name));
  const a = c.lora && params.get(loraA(name));
  if (!a) return y;
  return g.add(y, g.mul(linear(g, linear(g, x, a), P(params, loraB(name))), loraScale(c.lora!)));
}

export function rmsNorm(g: Graph, x: Value, w: Value, eps: number): Value {
  const ms = g.reduceMean(g.mul(x, x), [-1], true);
  return g.mul(g.div(x, g.sqrt(g.add(ms, eps))), w);
}

/** tanh-approximate GELU: one fused kernel forward, a hand-written rule backward. */
export function gelu(g: Graph, x: Value): Value {
  return g.gelu(x);
}

function mlp(g: Graph, c: ModelConfig, params: Params, l: number, h: Value): Value {
  const p = `layer${l}.`;
  const a = projection(g, c, params, `${p}w1`, h);
  const act = c.activation === 'swiglu'
    ? g.mul(g.mul(a, g.sigmoid(a)), projection(g, c, params, `${p}w3`, h))
    : gelu(g, a);
  return projection(g, c, params, `${p}w2`, act);
}

/** cos/sin tables [context, headDim/2] for rotary positions. */
function rotaryTables(g: Graph, c: ModelConfig): { cos: Value; sin: Value } {
  const half = headDim(c) / 2;
  const theta = ropeTheta(c);
  const cos = new Float64Array(c.context * half);
  const sin = new Float64Array(c.context * half);
  for (let t = 0; t < c.context; t++) {
    for (let i = 0; i < half; i++) {
      const ang = t / Math.pow(theta, (2 * i) / headDim(c));
      cos[t * half + i] = Math.cos(ang);
      sin[t * half + i] = Math.sin(ang);
    }
  }
  const typed = (a: Float64Array) => (g.floatType === 'float32' ? Float32Array.from(a) : a);
  return {
    cos: g.constant(typed(cos), [c.context, half], g.floatType, 'rope_cos'),
    sin: g.constant(typed(sin), [c.context, half], g.floatType, 'rope_sin'),
  };
}

/** Rotate the last axis of x [.., dh] by per-position angles (cos/sin broadcastable to [.., dh/2]). */
function rotate(g: Graph, x: Value, cos: Value, sin: Value): Value {
  const dh = x.shape[x.shape.length - 1]!;
  const x1 = g.slice(x, -1, 0, dh / 2);
  const x2 = g.slice(x, -1, dh / 2, dh);
  return g.concat([g.sub(g.mul(x1, cos), g.mul(x2, sin)), g.add(g.mul(x2, cos), g.mul(x1, sin))], -1);
}

/** [B,T,heads·dh] → [B,heads,T,dh] */
function splitHeads(g: Graph, c: ModelConfig, x: Value, heads: number): Value {
  const [b, t] = x.shape;
  return g.transpose(g.reshape(x, [b!, t!, heads, headDim(c)]), [0, 2, 1, 3]);
}
/** [B,H,T,dh] → [B,T,H·dh] */
function mergeHeads(g: Graph, c: ModelConfig, x: Value): Value {
  const [b, , t] = x.shape;
  return g.reshape(g.transpose(x, [0, 2, 1, 3]), [b!, t!, c.heads * headDim(c)]);
}

/**
 * Grouped-query attention without copying keys and values: query head h uses key/value head
 * h / G (G = heads/kvHeads, HF's repeat_kv order), so [B,H,T,dh] reshapes for free to
 * [B,kvHeads,G·T,dh] and one MatMul per key/value head scores all G·T of its queries.
 */
function groupQueries(g: Graph, c: ModelConfig, q: Value): Value {
  const G = c.heads / kvHeads(c);
  if (G === 1) return q;
  const [b, , t, dh] = q.shape;
  return g.reshape(q, [b!, kvHeads(c), G * t!, dh!]);
}
/** Inverse of groupQueries on an attention output [B,kvHeads,G·T,dh] → [B,H,T,dh]. */
function ungroupQueries(g: Graph, c: ModelConfig, o: Value): Value {
  if (c.heads === kvHeads(c)) return o;
  const [b, , gt, dh] = o.shape;
  return g.reshape(o, [b!, c.heads, gt! / (c.heads / kvHeads(c)), dh!]);
}

/**
 * Pre-norm query/key/value projections of layer l, split into heads (queries [B,H,T,dh], keys and
 * values [B,kvHeads,T,dh]), rotated when rotary. Queries come out scaled by 1/√dh.
 */
function projectQkv(g: Graph, c: ModelConfig, params: Params, l: number, x: Value, cos?: Value, sin?: Value): { q: Value; k: Value; v: Value } {
  const p = `layer${l}.`;
  const scale = 1 / Math.sqrt(headDim(c));
  const h = rmsNorm(g, x, P(params, `${p}attnNorm`), c.normEps);
  // Without biases or q-norms the scale goes before wq, as it always has (so those models stay
  // bit-identical); a bias or a norm must see the unscaled projection, so there it comes after.
  const preScale = !c.attnBias && !c.qkNorm;
  const project = (input: Value, w: string, b: string) => {
    const y = projection(g, c, params, `${p}${w}`, input);
    return c.attnBias ? g.add(y, P(params, `${p}${b}`)) : y;
  };
  let q = splitHeads(g, c, project(preScale ? g.mul(h, scale) : h, 'wq', 'bq'), c.heads);
  let k = splitHeads(g, c, project(h, 'wk', 'bk'), kvHeads(c));
  const v = splitHeads(g, c, project(h, 'wv', 'bv'), kvHeads(c));
  if (c.qkNorm) {
    q = rmsNorm(g, q, P(params, `${p}qNorm`), c.normEps);
    k = rmsNorm(g, k, P(params, `${p}kNorm`), c.normEps);
  }
  if (!preScale) q = g.mul(q, scale);
  if (cos && sin) {
    q = rotate(g, q, cos, sin);
    k = rotate(g, k, cos, sin);
  }
  return { q, k, v };
}

function embed(g: Graph, params: Params, ids: Value): Value {
  return g.gather(P(params, 'embed'), ids);
}

function head(g: Graph, c: ModelConfig, params: Params, x: Value): Value {
  const w = c.tieEmbeddings ? g.transposeLast(P(params, 'embed')) : P(params, 'head');
  return linear(g, rmsNorm(g, x, P(params, 'finalNorm'), c.normEps), w);
}

export interface ForwardResult {
  /** [B, T, V] */
  readonly logits: Value;
  /** Per layer: keys and values [B, kvHeads, T, dh] (keys already rotated) — the prefill for a KV cache. */
  readonly keys: Value[];
  readonly values: Value[];
}

/** Full-sequence causal forward pass over int64 ids [B, T] (T ≤ context): logits at every position. */
export function forward(g: Graph, c: ModelConfig, params: Params, ids: Value): ForwardResult {
  const { hidden, keys, values } = forwardHidden(g, c, params, ids);
  return { logits: head(g, c, params, hidden), keys, values };
}

export interface HiddenResult {
  /** The residual stream after the last block [B, T, dModel], before the final norm and the head. */
  readonly hidden: Value;
  readonly keys: Value[];
  readonly values: Value[];
}

/**
 * Next-token logits [R, V] at R chosen positions only: `at` [R] int64 holds flat indices b·T + t
 * into hidden [B, T, d]. The head (a [d, V] product) runs on R rows instead of B·T.
 */
export function logitsAt(g: Graph, c: ModelConfig, params: Params, hidden: Value, at: Value): Value {
  const [b, t, d] = hidden.shape as [number, number, number];
  return head(g, c, params, g.gather(g.reshape(hidden, [b * t, d]), at));
}

/** The blocks of the forward pass over int64 ids [B, T]: the final residual stream, keys and values. */
export function forwardHidden(g: Graph, c: ModelConfig, params: Params, ids: Value): HiddenResult {
  const [, t] = ids.shape as [number, number];
  let x = embed(g, params, ids);
  if (c.positions === 'learned') x = g.add(x, g.slice(P(params, 'pos'), 0, 0, t));
  const rope = c.positions === 'rotary' ? rotaryTables(g, c) : undefined;
  const cos = rope && g.slice(rope.cos, 0, 0, t);
  const sin = rope && g.slice(rope.sin, 0, 0, t);
  // Rows are grouped queries (G·T of them per key/value head): row r is position r mod T.
  const rows = (c.heads / kvHeads(c)) * t;
  const maskData = new Float64Array(rows * t);
  for (let r = 0; r < rows; r++) for (let j = (r % t) + 1; j < t; j++) maskData[r * t + j] = NEG;
  const causal = g.constant(g.floatType === 'float32' ? Float32Array.from(maskData) : maskData, [rows, t], g.floatType, 'causal_mask');
  const keys: Value[] = [];
  const values: Value[] = [];
  for (let l = 0; l < c.layers; l++) {
    const p = `layer${l}.`;
    const { q, k, v } = projectQkv(g, c, params, l, x, cos, sin);
    keys.push(k);
    values.push(v);
    const att = g.softmax(g.add(g.matmul(groupQueries(g, c, q), g.transposeLast(k)), causal), -1);
    x = g.add(x, projection(g, c, params, `${p}wo`, mergeHeads(g, c, ungroupQueries(g, c, g.matmul(att, v)))));
    x = g.add(x, mlp(g, c, params, l, rmsNorm(g, x, P(params, `${p}mlpNorm`), c.normEps)));
  }
  return { hidden: x, keys, values };
}

export interface DecodeResult {
  /** [B, V] */
  readonly logits: Value;
  /** Per layer: the new token's key and value [B, kvHeads, 1, dh], to be written into the cache at pos. */
  readonly keys: Value[];
  readonly values: Value[];
}

/**
 * One incremental decode step. ids [B,1] int64 at positions pos [B] int64; caches per layer
 * [B, kvHeads, C, dh] hold keys/values of positions < pos (anything at ≥ pos is masked). The cache is
 * read, never copied: the new token attends to it and to itself, and only its own key/value are
 * returned (the caller writes them into the cache buffer).
 */
export function decodeStep(
  g: Graph, c: ModelConfig, params: Params, ids: Value, pos: Value, kCache: Value[], vCache: Value[],
): DecodeResult {
  const [b] = ids.shape as [number, number];
  const C = kCache[0]!.shape[2]!;
  let x = embed(g, params, ids); // [B,1,d]
  if (c.positions === 'learned') x = g.add(x, g.reshape(g.gather(P(params, 'pos'), pos), [b, 1, c.dModel]));
  let cos: Value | undefined;
  let sin: Value | undefined;
  if (c.positions === 'rotary') {
    const rope = rotaryTables(g, c);
    cos = g.reshape(g.gather(rope.cos, pos), [b, 1, 1, headDim(c) / 2]);
    sin = g.reshape(g.gather(rope.sin, pos), [b, 1, 1, headDim(c) / 2]);
  }
  const range = g.constant(BigInt64Array.from({ length: C }, (_, i) => BigInt(i)), [1, C], 'int64');
  const valid = g.reshape(g.less(range, g.reshape(pos, [b, 1])), [b, 1, 1, C]);
  const keys: Value[] = [];
  const values: Value[] = [];
  for (let l = 0; l < c.layers; l++) {
    const p = `layer${l}.`;
    const { q: q1, k, v } = projectQkv(g, c, params, l, x, cos, sin);
    keys.push(k);
    values.push(v);
    const q = groupQueries(g, c, q1); // [B,kvHeads,G,dh]: the G query heads of each key/value head
    const sCache = g.where(valid, g.matmul(q, g.transposeLast(kCache[l]!)), NEG); // [B,kvHeads,G,C]
    const sSelf = g.reduceSum(g.mul(q, k), [-1], true); // [B,kvHeads,G,1]
    const pr = g.softmax(g.concat([sCache, sSelf], -1), -1);
    const o = g.add(g.matmul(g.slice(pr, -1, 0, C), vCache[l]!), g.mul(g.slice(pr, -1, C, C + 1), v));
    x = g.add(x, projection(g, c, params, `${p}wo`, mergeHeads(g, c, ungroupQueries(g, c, o))));
    x = g.add(x, mlp(g, c, params, l, rmsNorm(g, x, P(params, `${p}mlpNorm`), c.normEps)));
  }
  // The head runs on [B, d] so that the logits come out as [B, V] (a Reshape after it copied B·V).
  return { logits: head(g, c, params, g.reshape(x, [b, c.dModel])), keys, values };
}

/** log p(targets) per position: logits [B,T,V], targets [B,T] int64 → [B,T]. */
export function tokenLogprobs(g: Graph, logits: Value, targets: Value): { logp: Value; logSoftmax: Value } {
  const ls = g.logSoftmax(logits, -1);
  const [b, t] = targets.shape as [number, number];
  const picked = g.gatherElements(ls, g.reshape(targets, [b, t, 1]), 2);
  return { logp: g.reshape(picked, [b, t]), logSoftmax: ls };
}

