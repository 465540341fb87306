import type { Graph } from './graph.ts';
import { isFloat, sizeOf } from './types.ts';

const FREE = new Set(['Reshape', 'Identity', 'Transpose', 'Expand', 'Slice', 'Concat', 'Pad', 'Gather', 'Cast', 'GatherElements']);

/**
 * Floating-point operations of one run of `g`: MatMul counts 2·m·n·k per batch element; every
 * other float op counts one per output element (data movement ops count zero).
 */
export function countFlops(g: Graph): { total: number; matmul: number } {
  let total = 0;
  let matmul = 0;
  for (const n of g.nodes) {
    const y = n.outputs[0]!;
    if (n.op === 'MatMul') {
      const a = n.inputs[0]!.shape;
      const k = a[a.length - 1]!;
      const f = 2 * sizeOf(y.shape) * k;
      matmul += f;
      total += f;
    } else if (!FREE.has(n.op) && isFloat(y.dtype)) {
      total += sizeOf(y.shape);
    }
  }
  return { total, matmul };
}
