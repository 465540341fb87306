import { ShapeError, UnknownOpError } from '../errors.ts';
import { STOP_GRADIENT, type Graph } from './graph.ts';
import { GRADIENT_RULES } from './rules.ts';
import { sameShape } from './shape.ts';
import { type Value, isFloat } from './types.ts';

/**
 * Reverse-mode autodiff over a built graph: appends the backward pass to `g` and returns
 * d(y)/d(wrt[i]) for each `wrt` (zeros where y does not depend on it). `y` is usually a scalar
 * loss; `seed` (same shape as y) defaults to ones. Fan-in is summed; broadcasts are undone by
 * each rule. A node on the path without a rule throws UnknownOpError naming the op.
 */
export function gradients(g: Graph, y: Value, wrt: readonly Value[], seed?: Value): Value[] {
  if (!isFloat(y.dtype)) throw new ShapeError('gradients', 'differentiated value must be float');
  const nodes = [...g.nodes];
  // Values that depend on any wrt (forward sweep).
  const live = new Set<number>(wrt.map((v) => v.id));
  for (const n of nodes) {
    if (n.attrs[STOP_GRADIENT]) continue;
    if (n.inputs.some((v) => live.has(v.id))) for (const o of n.outputs) live.add(o.id);
  }
  // Values y depends on (backward sweep).
  const needed = new Set<number>([y.id]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.outputs.some((o) => needed.has(o.id))) for (const v of n.inputs) needed.add(v.id);
  }

  const pending = new Map<number, Value[]>();
  const push = (v: Value, grad: Value) => {
    if (!sameShape(v.shape, grad.shape)) {
      throw new ShapeError('gradients', `rule produced ${grad.shape} for value of shape ${v.shape}`);
    }
    const list = pending.get(v.id);
    if (list) list.push(grad);
    else pending.set(v.id, [grad]);
  };
  const total = (v: Value): Value | undefined => {
    const list = pending.get(v.id);
    if (!list || list.length === 0) return undefined;
    let acc = list[0]!;
    for (let i = 1; i < list.length; i++) acc = g.add(acc, list[i]!);
    pending.set(v.id, [acc]);
    return acc;
  };

  push(y, seed ?? g.expand(g.scalar(1, y.dtype), y.shape));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (node.attrs[STOP_GRADIENT] || node.outputs.length !== 1) continue;
    const out = node.outputs[0]!;
    if (!needed.has(out.id) || !live.has(out.id)) continue;
    const gy = total(out);
    if (!gy) continue;
    const rule = GRADIENT_RULES[node.op];
    if (!rule) throw new UnknownOpError(node.op, 'gradient');
    const gx = rule({ g, node, x: node.inputs, y: out, gy });
    node.inputs.forEach((v, k) => {
      const d = gx[k];
      if (d && isFloat(v.dtype) && live.has(v.id)) push(v, d);
    });
  }
  return wrt.map((v) => total(v) ?? g.zeros(v.shape, v.dtype));
}
