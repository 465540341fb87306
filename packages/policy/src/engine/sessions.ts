import type { InferenceSession } from 'onnxruntime-node';
import type { Graph } from '../graph/graph.ts';
import { serialize } from '../graph/serialize.ts';
import { createSession, type RuntimeOptions } from '../runtime/session.ts';

/** ORT sessions compiled on demand and cached by key (graph kind + static shape). */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  private closed = false;
  constructor(private readonly runtime: RuntimeOptions) {}

  get(key: string, build: () => Graph): Promise<InferenceSession> {
    if (this.closed) throw new Error('session cache is closed');
    let s = this.sessions.get(key);
    if (!s) {
      s = createSession(serialize(build(), { name: key }), this.runtime);
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  get size(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(all.map(async (p) => (await p).release()));
  }
}

/** Smallest power of two ≥ n (and ≥ min). */
export function pow2Bucket(n: number, min = 1): number {
  let b = min;
  while (b < n) b *= 2;
  return b;
}

/**
 * Batch rows for the learner's graphs (train step, scoring): the smallest m·2^e ≥ n with
 * m ∈ {4, 5, 6, 7} — four shapes per octave, so at most 25 % of the rows are padding (a power of
 * two wastes up to 50 %: 721 trajectories ran as 1024 rows). Below 8, powers of two.
 */
export function rowBucket(n: number, min = 1): number {
  const x = Math.max(n, min, 1);
  if (x <= 8) return pow2Bucket(x);
  const step = 2 ** (Math.floor(Math.log2(x - 1)) - 2);
  return Math.ceil(x / step) * step;
}

/** Smallest multiple of `step` ≥ n, capped at `cap`. */
export function stepBucket(n: number, step: number, cap: number): number {
  return Math.min(cap, Math.max(step, Math.ceil(n / step) * step));
}
