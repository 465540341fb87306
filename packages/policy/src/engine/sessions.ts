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

/** Smallest multiple of `step` ≥ n, capped at `cap`. */
export function stepBucket(n: number, step: number, cap: number): number {
  return Math.min(cap, Math.max(step, Math.ceil(n / step) * step));
}
