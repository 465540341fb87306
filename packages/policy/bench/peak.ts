import { Graph } from '../src/graph/graph.ts';
import { serialize } from '../src/graph/serialize.ts';
import { createSession, runSession, type RuntimeOptions } from '../src/runtime/session.ts';
import type { TensorData } from '../src/graph/types.ts';

/**
 * The machine's own MatMul limit for given [m,k]x[k,n] sizes: onnxruntime running a graph of
 * independent MatMuls of exactly those shapes, best of `repeats` runs. Returns GFLOP/s per shape and the max.
 */
export async function matmulPeak(shapes: readonly [number, number, number][], runtime: RuntimeOptions, repeats = 20): Promise<{ perShape: Record<string, number>; peak: number }> {
  const perShape: Record<string, number> = {};
  for (const [m, k, n] of shapes) {
    const g = new Graph('float32');
    const a = g.input('a', 'float32', [m, k]);
    const b = g.input('b', 'float32', [k, n]);
    // Four chained products per run so launch overhead is amortised like in a real step.
    let acc = g.matmul(a, b);
    for (let i = 0; i < 3; i++) acc = g.add(acc, g.matmul(g.mul(a, 1 + i), b));
    g.output(g.sumAll(acc), 'y');
    const s = await createSession(serialize(g), runtime);
    const feeds: Record<string, TensorData> = {
      a: { dtype: 'float32', shape: [m, k], data: Float32Array.from({ length: m * k }, (_, i) => ((i * 7) % 13) / 13) },
      b: { dtype: 'float32', shape: [k, n], data: Float32Array.from({ length: k * n }, (_, i) => ((i * 5) % 11) / 11) },
    };
    await runSession(s, feeds);
    let best = Infinity;
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await runSession(s, feeds);
      best = Math.min(best, performance.now() - t0);
    }
    await s.release();
    perShape[`${m}x${k}x${n}`] = (4 * 2 * m * k * n) / (best / 1000) / 1e9;
  }
  return { perShape, peak: Math.max(...Object.values(perShape)) };
}
