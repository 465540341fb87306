/** Seeded random numbers for deals, opponents and tests (mulberry32: 32-bit state, fast, deterministic). */
import type { Rng } from './types.ts';

export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniformly chosen element of a non-empty list. */
export function pick<T>(items: readonly T[], rng: Rng): T {
  if (items.length === 0) throw new RangeError('pick: empty list');
  return items[Math.min(items.length - 1, Math.floor(rng() * items.length))] as T;
}
