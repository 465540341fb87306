import { ShapeError } from '../errors.ts';
import type { Graph } from './graph.ts';
import { sameShape } from './shape.ts';
import type { Node, Shape, Value } from './types.ts';

/** What a gradient rule sees: the node, its inputs and output, and the incoming gradient. */
export interface RuleContext {
  readonly g: Graph;
  readonly node: Node;
  readonly x: readonly Value[];
  readonly y: Value;
  readonly gy: Value;
}

/** Returns one gradient per input (undefined = no gradient / not differentiable). */
export type GradientRule = (c: RuleContext) => (Value | undefined)[];

/** Sum `grad` over the axes along which a tensor of `shape` was broadcast, then reshape. */
export function unbroadcast(g: Graph, grad: Value, shape: Shape): Value {
  if (sameShape(grad.shape, shape)) return grad;
  const lead = grad.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? g.reduceSum(grad, axes, true) : grad;
  return g.reshape(summed, [...shape]);
}

/** Integer values of a constant input (axes, shapes, pads). */
export function constInts(g: Graph, v: Value): number[] {
  const t = g.initializers.get(v.id);
  if (!t) throw new ShapeError(v.name, 'expected a constant integer tensor');
  return Array.from(t.data as BigInt64Array, Number);
}

function reducedKeepShape(g: Graph, node: Node): number[] {
  const x = node.inputs[0]!;
  const axes = constInts(g, node.inputs[1]!);
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function attrInt(node: Node, name: string): number {
  const a = node.attrs[name];
  if (!a || a.kind !== 'int') throw new ShapeError(node.op, `missing int attribute ${name}`);
  return a.value;
}

const ub = unbroadcast;

/**
 * Gather's gradient is a one-hot MatMul for tables of up to this many rows and a scatter-add
 * above. Measured (2-core x86-64, 2048 ids, widths 64 and 256): the MatMul is 1.2–1.3× faster at
 * 64 and 256 rows, the scatter-add 1.4× faster at 512, 2.7–4× at 1024 and 11× at 4096.
 * spar's own vocabularies (20–256 symbols) stay on the MatMul, so their graphs are unchanged.
 */
export const ONEHOT_GATHER_MAX_ROWS = 256;

/** d table of Gather(table, idx) as onehot(idx)ᵀ · gy: one MatMul over an [n, rows] one-hot. */
export function gatherGradOneHot(g: Graph, table: Value, idx: Value, gy: Value): Value {
  const v = table.shape[0]!;
  const width = table.shape.slice(1).reduce((s, d) => s * d, 1);
  const n = idx.shape.reduce((s, d) => s * d, 1);
  const flatIdx = g.reshape(idx, [n, 1]);
  const range = g.constant(BigInt64Array.from({ length: v }, (_, i) => BigInt(i)), [1, v], 'int64');
  const onehot = g.cast(g.equal(g.cast(flatIdx, 'int64'), range), gy.dtype);
  const rows = g.reshape(gy, [n, width]);
  return g.reshape(g.matmul(g.transposeLast(onehot), rows), [...table.shape]);
}

/**
 * d table of Gather(table, idx) as a scatter-add of gy's rows into zeros, with no one-hot.
 * ScatterElements, not ScatterND: onnxruntime 1.29's CPU ScatterND splits the updates over the
 * intra-op threads without atomics, so repeated ids lose part of their sum (gradients.test.ts).
 */
export function gatherGradScatter(g: Graph, table: Value, idx: Value, gy: Value): Value {
  const v = table.shape[0]!;
  const width = table.shape.slice(1).reduce((s, d) => s * d, 1);
  const n = idx.shape.reduce((s, d) => s * d, 1);
  const at = g.expand(g.cast(g.reshape(idx, [n, 1]), 'int64'), [n, width]);
  const sum = g.op('ScatterElements', [g.zeros([v, width], gy.dtype), at, g.reshape(gy, [n, width])], {
    axis: { kind: 'int', value: 0 }, reduction: { kind: 'string', value: 'add' },
  }, gy.dtype, [v, width]);
  return g.reshape(sum, [...table.shape]);
}

/** One rule per op (tinygrad-style table). Ops absent here throw NO_GRADIENT_RULE in autodiff. */
export const GRADIENT_RULES: Record<string, GradientRule> = {
  Identity: ({ gy }) => [gy],
  Add: ({ g, x: [a, b], gy }) => [ub(g, gy, a!.shape), ub(g, gy, b!.shape)],
  Sub: ({ g, x: [a, b], gy }) => [ub(g, gy, a!.shape), ub(g, g.neg(gy), b!.shape)],
  Mul: ({ g, x: [a, b], gy }) => [ub(g, g.mul(gy, b!), a!.shape), ub(g, g.mul(gy, a!), b!.shape)],
  Div: ({ g, x: [a, b], y, gy }) => [ub(g, g.div(gy, b!), a!.shape), ub(g, g.neg(g.div(g.mul(gy, y), b!)), b!.shape)],
  Neg: ({ g, gy }) => [g.neg(gy)],
  Exp: ({ g, y, gy }) => [g.mul(gy, y)],
  Log: ({ g, x: [a], gy }) => [g.div(gy, a!)],
  Sqrt: ({ g, y, gy }) => [g.div(g.mul(gy, 0.5), y)],
  Tanh: ({ g, y, gy }) => [g.mul(gy, g.sub(1, g.mul(y, y)))],
  Sigmoid: ({ g, y, gy }) => [g.mul(gy, g.mul(y, g.sub(1, y)))],
  Relu: ({ g, x: [a], gy }) => [g.where(g.greater(a!, 0), gy, 0)],
  Abs: ({ g, x: [a], gy }) => [g.mul(gy, g.sign(a!))],
  Gelu: ({ g, x: [a], gy }) => {
    // y = ½x(1 + tanh u), u = k(x + c x³). With s = σ(2u) = ½(1 + tanh u):
    //   y' = s + 2x·s(1 − s)·(k + 3kc x²)
    // 13 element-wise ops on the activation (the tanh form took 17; they are most of the MLP's
    // non-MatMul time in the backward pass).
    const k = Math.sqrt(2 / Math.PI);
    const c = 0.044715;
    const x2 = g.mul(a!, a!);
    const s = g.sigmoid(g.mul(a!, g.add(g.mul(x2, 2 * k * c), 2 * k)));
    const slope = g.mul(a!, g.add(g.mul(x2, 6 * k * c), 2 * k));
    return [g.mul(gy, g.add(g.mul(g.mul(s, g.sub(1, s)), slope), s))];
  },
  Sign: () => [undefined],
  MatMul: ({ g, x: [a, b], gy }) => {
    const ga = ub(g, g.matmul(gy, g.transposeLast(b!)), a!.shape);
    if (b!.shape.length === 2 && a!.shape.length > 2) {
      // A weight [d,n] applied to activations [..., d]: one [d,M]·[M,n] product over all M rows,
      // not a batched product per leading index followed by a ReduceSum (B× the memory traffic).
      const d = a!.shape.at(-1)!;
      const m = a!.shape.slice(0, -1).reduce((x, y) => x * y, 1);
      return [ga, g.matmul(g.transposeLast(g.reshape(a!, [m, d])), g.reshape(gy, [m, b!.shape[1]!]))];
    }
    return [ga, ub(g, g.matmul(g.transposeLast(a!), gy), b!.shape)];
  },
  Transpose: ({ g, node, gy }) => {
    const perm = node.attrs.perm!.value as number[];
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => { inv[p] = i; });
    return [g.transpose(gy, inv)];
  },
  Reshape: ({ g, x: [a], gy }) => [g.reshape(gy, [...a!.shape]), undefined],
  Expand: ({ g, x: [a], gy }) => [ub(g, gy, a!.shape), undefined],
  ReduceSum: ({ g, node, x: [a], gy }) => [g.expand(g.reshape(gy, reducedKeepShape(g, node)), a!.shape), undefined],
  ReduceMean: ({ g, node, x: [a], y, gy }) => {
    const n = a!.shape.reduce((s, d) => s * d, 1) / Math.max(1, y.shape.reduce((s, d) => s * d, 1));
    return [g.expand(g.reshape(g.mul(gy, 1 / n), reducedKeepShape(g, node)), a!.shape), undefined];
  },
  ReduceMax: ({ g, node, x: [a], y, gy }) => {
    const keep = reducedKeepShape(g, node);
    const hit = g.equal(a!, g.reshape(y, keep));
    return [g.where(hit, g.reshape(gy, keep), 0), undefined];
  },
  Softmax: ({ g, node, y, gy }) => {
    const axis = attrInt(node, 'axis');
    return [g.mul(y, g.sub(gy, g.reduceSum(g.mul(gy, y), [axis], true)))];
  },
  LogSoftmax: ({ g, node, y, gy }) => {
    const axis = attrInt(node, 'axis');
    return [g.sub(gy, g.mul(g.exp(y), g.reduceSum(gy, [axis], true)))];
  },
  Gather: ({ g, x: [table, idx], gy }) => [
    table!.shape[0]! <= ONEHOT_GATHER_MAX_ROWS ? gatherGradOneHot(g, table!, idx!, gy) : gatherGradScatter(g, table!, idx!, gy), undefined,
  ],
  GatherElements: ({ g, node, x: [a, idx], gy }) => {
    const axis = attrInt(node, 'axis');
    const zeros = g.zeros(a!.shape, gy.dtype);
    const out = g.op('ScatterElements', [zeros, idx!, gy], {
      axis: { kind: 'int', value: axis }, reduction: { kind: 'string', value: 'add' },
    }, gy.dtype, a!.shape);
    return [out, undefined];
  },
  Where: ({ g, x: [c, a, b], gy }) => [undefined, ub(g, g.where(c!, gy, 0), a!.shape), ub(g, g.where(c!, 0, gy), b!.shape)],
  Clip: ({ g, x: [a, lo, hi], gy }) => [g.where(g.and(g.greaterOrEqual(a!, lo!), g.lessOrEqual(a!, hi!)), gy, 0), undefined, undefined],
  Min: ({ g, x: [a, b], gy }) => {
    const pickA = g.lessOrEqual(a!, b!);
    return [ub(g, g.where(pickA, gy, 0), a!.shape), ub(g, g.where(pickA, 0, gy), b!.shape)];
  },
  Max: ({ g, x: [a, b], gy }) => {
    const pickA = g.greaterOrEqual(a!, b!);
    return [ub(g, g.where(pickA, gy, 0), a!.shape), ub(g, g.where(pickA, 0, gy), b!.shape)];
  },
  Concat: ({ g, node, x, gy }) => {
    const axis = attrInt(node, 'axis');
    let off = 0;
    return x.map((v) => {
      const s = g.slice(gy, axis, off, off + v.shape[axis]!);
      off += v.shape[axis]!;
      return s;
    });
  },
  Slice: ({ g, x: [a, starts, ends, axes], gy }) => {
    const axis = constInts(g, axes!)[0]!;
    const start = constInts(g, starts!)[0]!;
    const end = constInts(g, ends!)[0]!;
    return [g.pad(gy, axis, start, a!.shape[axis]! - end), undefined, undefined, undefined];
  },
  Pad: ({ g, x: [a, pads], gy }) => {
    const p = constInts(g, pads!);
    const r = a!.shape.length;
    let out = gy;
    for (let i = 0; i < r; i++) if (p[i] || p[i + r]) out = g.slice(out, i, p[i]!, p[i]! + a!.shape[i]!);
    return [out, undefined];
  },
  Cast: ({ g, x: [a], gy }) => [a!.dtype === 'float32' || a!.dtype === 'float64' ? g.cast(gy, a!.dtype) : undefined],
};
