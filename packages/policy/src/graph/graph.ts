import { ShapeError, UnknownOpError } from '../errors.ts';
import { broadcastShapes, fmt, normAxis, sameShape } from './shape.ts';
import {
  type Attrs, type DType, type FloatType, type Node, type Shape, type TensorData, type TypedArray,
  type Value, float, int, ints, isFloat, sizeOf,
} from './types.ts';

/** Ops the builder can emit. `Graph.op` rejects anything else with UnknownOpError. */
export const KNOWN_OPS = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Neg', 'Exp', 'Log', 'Sqrt', 'Tanh', 'Sigmoid', 'Relu', 'Gelu', 'Abs',
  'Sign', 'MatMul', 'Transpose', 'Reshape', 'ReduceSum', 'ReduceMean', 'ReduceMax', 'Softmax',
  'LogSoftmax', 'Gather', 'GatherElements', 'ScatterElements', 'Where', 'Cast', 'Concat', 'Slice',
  'Pad', 'Expand', 'Clip', 'Min', 'Max', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual',
  'Equal', 'And', 'Or', 'Not', 'Identity', 'IsNaN', 'IsInf', 'Trilu',
]);

/** `Identity` nodes created by stopGradient carry this attribute; autodiff does not cross them. */
export const STOP_GRADIENT = 'spar_stop_gradient';

/**
 * A static-shape ONNX graph under construction. Every op method infers output shapes in
 * TypeScript (needed by autodiff to un-broadcast), so shape errors surface at build time with
 * the op's name rather than at session load.
 */
export class Graph {
  readonly floatType: FloatType;
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: { name: string; value: Value }[] = [];
  readonly initializers = new Map<number, TensorData>();
  readonly producers = new Map<number, Node>();
  private nextId = 0;
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, Value>();

  constructor(floatType: FloatType = 'float32') {
    this.floatType = floatType;
  }

  private newValue(dtype: DType, shape: Shape, name?: string): Value {
    const id = this.nextId++;
    let n = name ?? `v${id}`;
    if (this.names.has(n)) n = `${n}__${id}`;
    this.names.add(n);
    return { id, name: n, dtype, shape: [...shape] };
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    if (this.names.has(name)) throw new ShapeError(name, 'duplicate graph input name');
    const v = this.newValue(dtype, shape, name);
    this.inputs.push(v);
    return v;
  }

  output(value: Value, name: string): void {
    // ONNX output names are value names; give the value an alias through Identity.
    const out = this.newValue(value.dtype, value.shape, name);
    if (out.name !== name) throw new ShapeError(name, 'duplicate graph output name');
    this.addNode('Identity', [value], {}, [out]);
    this.outputs.push({ name, value: out });
  }

  constant(data: TypedArray, shape: Shape, dtype: DType, name?: string): Value {
    if (data.length !== sizeOf(shape)) throw new ShapeError(name ?? 'constant', `${data.length} values for shape ${fmt(shape)}`);
    const v = this.newValue(dtype, shape, name ?? `c${this.nextId}`);
    this.initializers.set(v.id, { dtype, shape: [...shape], data });
    return v;
  }

  /** A float scalar of the graph's float type (cached per value). */
  scalar(x: number, dtype: DType = this.floatType): Value {
    const key = `${dtype}:${Object.is(x, -0) ? '-0' : x}`;
    let v = this.scalarCache.get(key);
    if (!v) {
      v = this.constant(typedOf(dtype, [x]), [], dtype);
      this.scalarCache.set(key, v);
    }
    return v;
  }

  int64s(values: readonly number[]): Value {
    return this.constant(BigInt64Array.from(values.map(BigInt)), [values.length], 'int64');
  }

  zeros(shape: Shape, dtype: DType = this.floatType): Value {
    return this.expand(this.scalar(0, dtype), shape);
  }

  /** Emit a node whose outputs have been inferred by the caller. */
  addNode(op: string, inputs: readonly Value[], attrs: Attrs, outputs: Value[]): Node {
    if (!KNOWN_OPS.has(op)) throw new UnknownOpError(op, 'build');
    const node: Node = { op, inputs, outputs, attrs };
    this.nodes.push(node);
    for (const o of outputs) this.producers.set(o.id, node);
    return node;
  }

  private emit(op: string, inputs: readonly Value[], attrs: Attrs, dtype: DType, shape: Shape): Value {
    const out = this.newValue(dtype, shape);
    this.addNode(op, inputs, attrs, [out]);
    return out;
  }

  /** Emit any known op by name with explicit output type; for ops without a typed helper. */
  op(op: string, inputs: readonly Value[], attrs: Attrs, dtype: DType, shape: Shape): Value {
    return this.emit(op, inputs, attrs, dtype, shape);
  }

  // ---- element-wise ----
  private binary(op: string, a: Value, b: Value, outType?: DType): Value {
    if (a.dtype !== b.dtype) throw new ShapeError(op, `dtype mismatch ${a.dtype} vs ${b.dtype}`);
    return this.emit(op, [a, b], {}, outType ?? a.dtype, broadcastShapes(op, a.shape, b.shape));
  }
  private lift(x: Value | number, like: Value): Value {
    return typeof x === 'number' ? this.scalar(x, like.dtype) : x;
  }
  add(a: Value, b: Value | number): Value { return this.binary('Add', a, this.lift(b, a)); }
  sub(a: Value | number, b: Value | number): Value {
    const av = typeof a === 'number' ? this.lift(a, b as Value) : a;
    return this.binary('Sub', av, this.lift(b, av));
  }
  mul(a: Value, b: Value | number): Value { return this.binary('Mul', a, this.lift(b, a)); }
  div(a: Value | number, b: Value | number): Value {
    const av = typeof a === 'number' ? this.lift(a, b as Value) : a;
    return this.binary('Div', av, this.lift(b, av));
  }
  min(a: Value, b: Value | number): Value { return this.binary('Min', a, this.lift(b, a)); }
  max(a: Value, b: Value | number): Value { return this.binary('Max', a, this.lift(b, a)); }
  greater(a: Value, b: Value | number): Value { return this.binary('Greater', a, this.lift(b, a), 'bool'); }
  less(a: Value, b: Value | number): Value { return this.binary('Less', a, this.lift(b, a), 'bool'); }
  greaterOrEqual(a: Value, b: Value | number): Value { return this.binary('GreaterOrEqual', a, this.lift(b, a), 'bool'); }
  lessOrEqual(a: Value, b: Value | number): Value { return this.binary('LessOrEqual', a, this.lift(b, a), 'bool'); }
  equal(a: Value, b: Value | number): Value { return this.binary('Equal', a, this.lift(b, a), 'bool'); }
  and(a: Value, b: Value): Value { return this.binary('And', a, b, 'bool'); }
  or(a: Value, b: Value): Value { return this.binary('Or', a, b, 'bool'); }

  private unary(op: string, x: Value, dtype: DType = x.dtype): Value {
    return this.emit(op, [x], {}, dtype, x.shape);
  }
  neg(x: Value): Value { return this.unary('Neg', x); }
  exp(x: Value): Value { return this.unary('Exp', x); }
  log(x: Value): Value { return this.unary('Log', x); }
  sqrt(x: Value): Value { return this.unary('Sqrt', x); }
  tanh(x: Value): Value { return this.unary('Tanh', x); }
  sigmoid(x: Value): Value { return this.unary('Sigmoid', x); }
  relu(x: Value): Value { return this.unary('Relu', x); }
  abs(x: Value): Value { return this.unary('Abs', x); }
  /** GELU, tanh approximation (ONNX opset 20 Gelu with approximate='tanh'). */
  gelu(x: Value): Value {
    return this.emit('Gelu', [x], { approximate: { kind: 'string', value: 'tanh' } }, x.dtype, x.shape);
  }
  sign(x: Value): Value { return this.unary('Sign', x); }
  not(x: Value): Value { return this.unary('Not', x); }
  isNaN(x: Value): Value { return this.unary('IsNaN', x, 'bool'); }
  isInf(x: Value): Value { return this.unary('IsInf', x, 'bool'); }
  identity(x: Value): Value { return this.unary('Identity', x); }
  /** The value of x, with no gradient flowing through. */
  stopGradient(x: Value): Value {
    return this.emit('Identity', [x], { [STOP_GRADIENT]: int(1) }, x.dtype, x.shape);
  }
  cast(x: Value, dtype: DType): Value {
    if (x.dtype === dtype) return x;
    return this.emit('Cast', [x], { to: int(ONNX_DTYPE[dtype]) }, dtype, x.shape);
  }
  where(cond: Value, a: Value | number, b: Value | number): Value {
    const like = typeof a === 'number' ? (typeof b === 'number' ? undefined : b) : a;
    const av = typeof a === 'number' ? this.scalar(a, like?.dtype) : a;
    const bv = typeof b === 'number' ? this.scalar(b, av.dtype) : b;
    if (cond.dtype !== 'bool') throw new ShapeError('Where', 'condition must be bool');
    if (av.dtype !== bv.dtype) throw new ShapeError('Where', `dtype mismatch ${av.dtype} vs ${bv.dtype}`);
    const shape = broadcastShapes('Where', broadcastShapes('Where', cond.shape, av.shape), bv.shape);
    return this.emit('Where', [cond, av, bv], {}, av.dtype, shape);
  }
  clip(x: Value, lo: number, hi: number): Value {
    return this.emit('Clip', [x, this.scalar(lo, x.dtype), this.scalar(hi, x.dtype)], {}, x.dtype, x.shape);
  }

  // ---- linear algebra and layout ----
  matmul(a: Value, b: Value): Value {
    if (a.shape.length < 2 || b.shape.length < 2) throw new ShapeError('MatMul', 'operands must have rank >= 2');
    const [m, k] = a.shape.slice(-2);
    const [k2, n] = b.shape.slice(-2);
    if (k !== k2) throw new ShapeError('MatMul', `inner dims differ: ${fmt(a.shape)} x ${fmt(b.shape)}`);
    const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (a.dtype !== b.dtype) throw new ShapeError('MatMul', `dtype mismatch ${a.dtype} vs ${b.dtype}`);
    return this.emit('MatMul', [a, b], {}, a.dtype, [...batch, m!, n!]);
  }
  transpose(x: Value, perm: readonly number[]): Value {
    if (perm.length !== x.shape.length) throw new ShapeError('Transpose', `perm ${perm} for rank ${x.shape.length}`);
    return this.emit('Transpose', [x], { perm: ints(perm) }, x.dtype, perm.map((p) => x.shape[p]!));
  }
  /** Swap the last two axes. */
  transposeLast(x: Value): Value {
    const r = x.shape.length;
    const perm = [...Array(r).keys()];
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    return this.transpose(x, perm);
  }
  reshape(x: Value, shape: readonly number[]): Value {
    const known = shape.filter((d) => d !== -1);
    const full = shape.map((d) => (d === -1 ? sizeOf(x.shape) / sizeOf(known) : d));
    if (sizeOf(full) !== sizeOf(x.shape) || !full.every(Number.isInteger)) {
      throw new ShapeError('Reshape', `cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
    }
    if (sameShape(full, x.shape)) return x;
    return this.emit('Reshape', [x, this.int64s(full)], {}, x.dtype, full);
  }
  unsqueeze(x: Value, axis: number): Value {
    const s = [...x.shape];
    s.splice(axis < 0 ? s.length + 1 + axis : axis, 0, 1);
    return this.reshape(x, s);
  }
  expand(x: Value, shape: Shape): Value {
    const out = broadcastShapes('Expand', x.shape, shape);
    if (sameShape(out, x.shape)) return x;
    return this.emit('Expand', [x, this.int64s(out)], {}, x.dtype, out);
  }
  private reduce(op: string, x: Value, axes: readonly number[], keepdims: boolean): Value {
    const r = x.shape.length;
    const ax = axes.map((a) => normAxis(a, r, op));
    const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
    return this.emit(op, [x, this.int64s(ax)], { keepdims: int(keepdims ? 1 : 0) }, x.dtype, shape);
  }
  reduceSum(x: Value, axes: readonly number[], keepdims = false): Value { return this.reduce('ReduceSum', x, axes, keepdims); }
  reduceMean(x: Value, axes: readonly number[], keepdims = false): Value { return this.reduce('ReduceMean', x, axes, keepdims); }
  reduceMax(x: Value, axes: readonly number[], keepdims = false): Value { return this.reduce('ReduceMax', x, axes, keepdims); }
  /** Sum of all elements as a scalar. */
  sumAll(x: Value): Value { return this.reduceSum(x, [...x.shape.keys()], false); }
  softmax(x: Value, axis = -1): Value {
    return this.emit('Softmax', [x], { axis: int(normAxis(axis, x.shape.length, 'Softmax')) }, x.dtype, x.shape);
  }
  logSoftmax(x: Value, axis = -1): Value {
    return this.emit('LogSoftmax', [x], { axis: int(normAxis(axis, x.shape.length, 'LogSoftmax')) }, x.dtype, x.shape);
  }
  /** Rows of `table` ([V, ...]) selected by integer `indices`. */
  gather(table: Value, indices: Value): Value {
    if (indices.dtype !== 'int64' && indices.dtype !== 'int32') throw new ShapeError('Gather', 'indices must be integers');
    return this.emit('Gather', [table, indices], { axis: int(0) }, table.dtype, [...indices.shape, ...table.shape.slice(1)]);
  }
  gatherElements(x: Value, indices: Value, axis: number): Value {
    const a = normAxis(axis, x.shape.length, 'GatherElements');
    if (indices.shape.length !== x.shape.length) throw new ShapeError('GatherElements', 'indices rank must equal data rank');
    return this.emit('GatherElements', [x, indices], { axis: int(a) }, x.dtype, indices.shape);
  }
  scatterElements(data: Value, indices: Value, updates: Value, axis: number): Value {
    const a = normAxis(axis, data.shape.length, 'ScatterElements');
    return this.emit('ScatterElements', [data, indices, updates], { axis: int(a) }, data.dtype, data.shape);
  }
  concat(xs: readonly Value[], axis: number): Value {
    const r = xs[0]!.shape.length;
    const a = normAxis(axis, r, 'Concat');
    const shape = [...xs[0]!.shape];
    shape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
    return this.emit('Concat', xs, { axis: int(a) }, xs[0]!.dtype, shape);
  }
  /** x[start:end] along one axis (static bounds). */
  slice(x: Value, axis: number, start: number, end: number): Value {
    const a = normAxis(axis, x.shape.length, 'Slice');
    if (start < 0 || end > x.shape[a]! || start >= end) throw new ShapeError('Slice', `bad range ${start}:${end} on axis of ${x.shape[a]}`);
    const shape = [...x.shape];
    shape[a] = end - start;
    return this.emit('Slice', [x, this.int64s([start]), this.int64s([end]), this.int64s([a])], {}, x.dtype, shape);
  }
  /** Zero-pad one axis with `before`/`after` elements. */
  pad(x: Value, axis: number, before: number, after: number): Value {
    const r = x.shape.length;
    const a = normAxis(axis, r, 'Pad');
    const pads = new Array(2 * r).fill(0);
    pads[a] = before;
    pads[a + r] = after;
    const shape = [...x.shape];
    shape[a] = shape[a]! + before + after;
    return this.emit('Pad', [x, this.int64s(pads)], { mode: { kind: 'string', value: 'constant' } }, x.dtype, shape);
  }

  /** Find a value's producing node (undefined for inputs and initializers). */
  producer(v: Value): Node | undefined {
    return this.producers.get(v.id);
  }
}

export const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

export function typedOf(dtype: DType, values: readonly number[]): TypedArray {
  switch (dtype) {
    case 'float32': return Float32Array.from(values);
    case 'float64': return Float64Array.from(values);
    case 'int64': return BigInt64Array.from(values.map((v) => BigInt(v)));
    case 'int32': return Int32Array.from(values);
    case 'bool': return Uint8Array.from(values);
  }
}

export { float, int, ints, isFloat };
