import assert from 'node:assert/strict';
import { Graph, gradients, serialize, type Value } from '../src/graph/index.ts';
import { createSession, runSession } from '../src/runtime/session.ts';
import type { TensorData } from '../src/graph/types.ts';

/** Deterministic uniform numbers in [lo, hi). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

export interface GradcheckResult { maxRelError: number; checked: number }

/**
 * Float64 central-difference check of autodiff. `build` declares float64 inputs (the first
 * `nDiff` are differentiated), other fixed feeds and returns a scalar loss.
 * Relative error per element: |analytic - numeric| / max(|analytic|, |numeric|, 1e-4).
 */
export async function gradcheck(
  build: (g: Graph) => { wrt: Value[]; loss: Value },
  feeds: (inputs: readonly Value[]) => Record<string, TensorData>,
  opts: { h?: number; ep?: 'cpu' | 'cuda' } = {},
): Promise<GradcheckResult> {
  const g = new Graph('float64');
  const { wrt, loss } = build(g);
  return gradcheckGraph(g, wrt, loss, feeds, opts);
}

/** As gradcheck, over an already built float64 graph. */
export async function gradcheckGraph(
  g: Graph, wrt: readonly Value[], loss: Value,
  feeds: (inputs: readonly Value[]) => Record<string, TensorData>,
  opts: { h?: number; ep?: 'cpu' | 'cuda' } = {},
): Promise<GradcheckResult> {
  assert.equal(loss.shape.length === 0 || loss.shape.every((d) => d === 1), true, 'loss must be scalar');
  const grads = gradients(g, loss, wrt);
  g.output(loss, 'loss');
  grads.forEach((d, i) => g.output(d, `grad_${i}`));
  // SPAR_TEST_EP=cuda runs every gradient check on the CUDA EP (GPU hosts).
  const ep = opts.ep ?? (process.env.SPAR_TEST_EP === 'cuda' ? 'cuda' : 'cpu');
  const session = await createSession(serialize(g), { ep, threads: 1 });
  const base = feeds(g.inputs);
  const out = await runSession(session, base);
  const h = opts.h ?? 1e-6;
  let maxRel = 0;
  let checked = 0;
  for (let i = 0; i < wrt.length; i++) {
    const analytic = out[`grad_${i}`]!.data as Float64Array;
    const x = base[wrt[i]!.name]!.data as Float64Array;
    for (let j = 0; j < x.length; j++) {
      const orig = x[j]!;
      x[j] = orig + h;
      const lp = ((await runSession(session, base, ['loss']))['loss']!.data as Float64Array)[0]!;
      x[j] = orig - h;
      const lm = ((await runSession(session, base, ['loss']))['loss']!.data as Float64Array)[0]!;
      x[j] = orig;
      const numeric = (lp - lm) / (2 * h);
      const a = analytic[j]!;
      const rel = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), 1e-4);
      if (rel > maxRel) maxRel = rel;
      checked++;
    }
  }
  await session.release();
  return { maxRelError: maxRel, checked };
}

/** Random float64 feeds for every float64 input; integer inputs must be supplied in `fixed`. */
export function randomFeeds(seed: number, fixed: Record<string, TensorData> = {}, scale = 1) {
  return (inputs: readonly Value[]): Record<string, TensorData> => {
    const r = rng(seed);
    const feeds: Record<string, TensorData> = { ...fixed };
    for (const v of inputs) {
      if (feeds[v.name]) continue;
      const n = v.shape.reduce((s, d) => s * d, 1);
      feeds[v.name] = { dtype: 'float64', shape: v.shape, data: Float64Array.from({ length: n }, () => (r() * 2 - 1) * scale) };
    }
    return feeds;
  };
}
