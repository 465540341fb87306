import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, GRADIENT_RULES, gradients, serialize, type Value } from '../src/graph/index.ts';
import { ONEHOT_GATHER_MAX_ROWS } from '../src/graph/rules.ts';
import { createSession, runSession } from '../src/runtime/session.ts';
import { UnknownOpError } from '../src/errors.ts';
import { gradcheck, randomFeeds } from './gradcheck.ts';

const TOL = 1e-5;

/** loss = sum(f(xs) * w) with a fixed random w, so every output element matters. */
async function check(
  name: string,
  shapes: number[][],
  f: (g: Graph, xs: Value[]) => Value,
  opts: { positive?: boolean; fixed?: Record<string, { dtype: 'int64'; shape: number[]; data: BigInt64Array }>; extra?: (g: Graph) => void } = {},
) {
  const res = await gradcheck(
    (g) => {
      const xs = shapes.map((s, i) => g.input(`x${i}`, 'float64', s));
      const used = opts.positive ? xs.map((x) => g.add(g.mul(x, x), 0.5)) : xs;
      const y = f(g, used);
      const w = g.input('w', 'float64', y.shape);
      return { wrt: xs, loss: g.sumAll(g.mul(y, w)) };
    },
    randomFeeds(7, opts.fixed ?? {}),
  );
  assert.ok(res.checked > 0, `${name}: nothing checked`);
  assert.ok(res.maxRelError <= TOL, `${name}: max relative error ${res.maxRelError}`);
  return res;
}

const idx = (shape: number[], values: number[]) => ({ dtype: 'int64' as const, shape, data: BigInt64Array.from(values.map(BigInt)) });

const cases: [string, () => Promise<unknown>][] = [
  ['Add (broadcast)', () => check('Add', [[3, 4], [4]], (g, [a, b]) => g.add(a!, b!))],
  ['Sub (broadcast)', () => check('Sub', [[2, 1, 4], [3, 1]], (g, [a, b]) => g.sub(a!, b!))],
  ['Mul (broadcast)', () => check('Mul', [[2, 3], [2, 1]], (g, [a, b]) => g.mul(a!, b!))],
  ['Div', () => check('Div', [[2, 3], [2, 3]], (g, [a, b]) => g.div(a!, b!), { positive: true })],
  ['Neg', () => check('Neg', [[5]], (g, [a]) => g.neg(a!))],
  ['Exp', () => check('Exp', [[5]], (g, [a]) => g.exp(a!))],
  ['Log', () => check('Log', [[5]], (g, [a]) => g.log(a!), { positive: true })],
  ['Sqrt', () => check('Sqrt', [[5]], (g, [a]) => g.sqrt(a!), { positive: true })],
  ['Tanh', () => check('Tanh', [[5]], (g, [a]) => g.tanh(a!))],
  ['Sigmoid', () => check('Sigmoid', [[5]], (g, [a]) => g.sigmoid(a!))],
  ['Relu', () => check('Relu', [[6]], (g, [a]) => g.relu(a!))],
  ['Gelu', () => check('Gelu', [[3, 4]], (g, [a]) => g.mul(g.gelu(a!), 3))],
  ['Abs', () => check('Abs', [[6]], (g, [a]) => g.abs(a!))],
  ['MatMul', () => check('MatMul', [[3, 4], [4, 2]], (g, [a, b]) => g.matmul(a!, b!))],
  ['MatMul (batched, broadcast)', () => check('MatMul', [[2, 3, 4], [4, 5]], (g, [a, b]) => g.matmul(a!, b!))],
  ['Transpose', () => check('Transpose', [[2, 3, 4]], (g, [a]) => g.transpose(a!, [2, 0, 1]))],
  ['Reshape', () => check('Reshape', [[2, 6]], (g, [a]) => g.reshape(a!, [3, 4]))],
  ['Expand', () => check('Expand', [[3, 1]], (g, [a]) => g.expand(a!, [2, 3, 4]))],
  ['ReduceSum', () => check('ReduceSum', [[2, 3, 4]], (g, [a]) => g.reduceSum(a!, [1], false))],
  ['ReduceSum keepdims', () => check('ReduceSum', [[2, 3, 4]], (g, [a]) => g.reduceSum(a!, [0, 2], true))],
  ['ReduceMean', () => check('ReduceMean', [[2, 3, 4]], (g, [a]) => g.reduceMean(a!, [2], true))],
  ['ReduceMax', () => check('ReduceMax', [[3, 4]], (g, [a]) => g.reduceMax(a!, [1], false))],
  ['Softmax', () => check('Softmax', [[3, 5]], (g, [a]) => g.softmax(a!, -1))],
  ['LogSoftmax', () => check('LogSoftmax', [[3, 5]], (g, [a]) => g.logSoftmax(a!, -1))],
  ['Gather (repeated indices)', () => check('Gather', [[5, 3]], (g, [a]) => g.gather(a!, g.input('i', 'int64', [2, 3])),
    { fixed: { i: idx([2, 3], [0, 4, 4, 1, 0, 2]) } })],
  ['Gather (scatter-add form: a table above ONEHOT_GATHER_MAX_ROWS, repeated indices)', () => check('Gather', [[ONEHOT_GATHER_MAX_ROWS + 44, 2]], (g, [a]) => g.gather(a!, g.input('i', 'int64', [2, 3])),
    { fixed: { i: idx([2, 3], [0, 299, 299, 257, 0, 3]) } })],
  ['GatherElements', () => check('GatherElements', [[2, 3, 5]], (g, [a]) => g.gatherElements(a!, g.input('i', 'int64', [2, 3, 1]), 2),
    { fixed: { i: idx([2, 3, 1], [0, 4, 3, 1, 1, 2]) } })],
  ['Where', () => check('Where', [[2, 3], [3]], (g, [a, b]) => g.where(g.greater(a!, 0), a!, b!))],
  ['Clip', () => check('Clip', [[8]], (g, [a]) => g.clip(a!, -0.5, 0.5))],
  ['Min', () => check('Min', [[2, 3], [3]], (g, [a, b]) => g.min(a!, b!))],
  ['Max', () => check('Max', [[2, 3], [2, 3]], (g, [a, b]) => g.max(a!, b!))],
  ['Concat', () => check('Concat', [[2, 3], [2, 2]], (g, [a, b]) => g.concat([a!, b!], 1))],
  ['Slice', () => check('Slice', [[2, 6]], (g, [a]) => g.slice(a!, 1, 1, 4))],
  ['Pad', () => check('Pad', [[2, 3]], (g, [a]) => g.pad(a!, 0, 1, 2))],
  ['Identity', () => check('Identity', [[4]], (g, [a]) => g.identity(a!))],
  ['Cast (float to float)', () => check('Cast', [[4]], (g, [a]) => g.cast(a!, 'float64'))],
  ['fan-in (x used three times)', () => check('fan-in', [[3, 3]], (g, [a]) => g.add(g.matmul(a!, a!), g.mul(a!, a!)))],
];

for (const [name, run] of cases) test(`gradient rule: ${name}`, async () => { await run(); });

test('every rule in the table is covered by a finite-difference case', () => {
  const covered = new Set(cases.map(([n]) => n.split(' ')[0]));
  const zeroGrad = new Set(['Sign']); // piecewise constant: gradient is zero by definition
  for (const op of Object.keys(GRADIENT_RULES)) {
    if (zeroGrad.has(op)) continue;
    assert.ok(covered.has(op), `no finite-difference test for ${op}`);
  }
});

test('Gather\'s gradient is a one-hot MatMul up to ONEHOT_GATHER_MAX_ROWS table rows and a scatter-add above', () => {
  const ops = (rows: number) => {
    const g = new Graph('float32');
    const table = g.input('t', 'float32', [rows, 4]);
    gradients(g, g.sumAll(g.gather(table, g.input('i', 'int64', [3, 5]))), [table]);
    return new Set(g.nodes.map((n) => n.op));
  };
  const small = ops(ONEHOT_GATHER_MAX_ROWS);
  assert.ok(small.has('MatMul') && !small.has('ScatterElements'));
  const large = ops(ONEHOT_GATHER_MAX_ROWS + 1);
  assert.ok(large.has('ScatterElements') && !large.has('MatMul') && !large.has('Equal'), 'no one-hot for a large table');
});

test('the scatter-add embedding gradient sums repeated ids exactly with 2 intra-op threads', async () => {
  // onnxruntime 1.29's CPU ScatterND with reduction=add splits updates over threads without
  // atomics and loses part of repeated ids' sums; the rule's ScatterElements must not.
  const [V, d, n] = [300, 256, 4096]; // wide rows: onnxruntime parallelises a scatter only when the work is large
  const g = new Graph('float32');
  const table = g.input('t', 'float32', [V, d]);
  const ids = g.input('i', 'int64', [n]);
  const w = g.input('w', 'float32', [n, d]);
  g.output(gradients(g, g.sumAll(g.mul(g.gather(table, ids), w)), [table])[0]!, 'grad');
  const session = await createSession(serialize(g), { threads: 2 });
  const idv = BigInt64Array.from({ length: n }, (_, k) => BigInt((k * 7919 + (k >> 3)) % 7 === 0 ? 299 : (k * 31) % V));
  const wv = Float32Array.from({ length: n * d }, (_, k) => Math.sin(k));
  const expected = new Float64Array(V * d);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < d; j++) {
      const o = Number(idv[k]) * d + j;
      expected[o] = expected[o]! + wv[k * d + j]!;
    }
  }
  try {
    for (let run = 0; run < 5; run++) {
      const out = await runSession(session, {
        t: { dtype: 'float32', shape: [V, d], data: new Float32Array(V * d) },
        i: { dtype: 'int64', shape: [n], data: idv },
        w: { dtype: 'float32', shape: [n, d], data: wv },
      });
      const grad = out.grad!.data as Float32Array;
      let maxErr = 0;
      for (let k = 0; k < grad.length; k++) maxErr = Math.max(maxErr, Math.abs(grad[k]! - expected[k]!));
      assert.ok(maxErr <= 1e-4, `run ${run}: max |error| ${maxErr}`);
    }
  } finally {
    await session.release();
  }
});

test('stopGradient blocks the gradient', async () => {
  const res = await gradcheck((g) => {
    const x = g.input('x', 'float64', [4]);
    const y = g.mul(x, g.stopGradient(x)); // d/dx = stop(x), not 2x
    const grads = gradients(g, g.sumAll(y), [x]);
    // compare against the expected analytic value by making the loss: sum(grad - x)^2 == 0 at any x
    const diff = g.sub(grads[0]!, x);
    return { wrt: [x], loss: g.add(g.sumAll(g.mul(diff, diff)), g.sumAll(g.mul(x, 0))) };
  }, randomFeeds(3));
  assert.ok(res.maxRelError <= TOL);
});

test('a node without a gradient rule throws naming the op', () => {
  const g = new Graph('float64');
  const x = g.input('x', 'float64', [3]);
  const y = g.op('IsNaN', [x], {}, 'float64', [3]); // deliberately mistyped: float output, no rule
  assert.throws(() => gradients(g, g.sumAll(y), [x]), (e: unknown) => e instanceof UnknownOpError && e.op === 'IsNaN');
});

test('an unknown op is rejected at build time', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [3]);
  assert.throws(() => g.op('FancyOp', [x], {}, 'float32', [3]), (e: unknown) => e instanceof UnknownOpError && e.code === 'UNKNOWN_OP');
});
