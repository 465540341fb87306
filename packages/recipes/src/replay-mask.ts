/**
 * Judge side of constrained decoding: the allowed set of every response token, recomputed by
 * replaying the recipe's own grammar mask over the response exactly as generate() called it
 * (one row, each prefix in turn). The learner renormalises each token's probability over its
 * allowed set, so a judge that copied the solver's sets would let a tampered record choose the
 * distribution it is scored under; with these the record only supplies the tokens.
 */
import type { Sample } from '@spar/core';
import type { LogitMask } from '@spar/policy/schema';

export type Replayed =
  | { readonly ok: true; readonly allowed: number[][] }
  | { readonly ok: false; readonly position: number };

/** Allowed ids at each response position, or the first position whose token the grammar does not allow. */
export function replayMask(mask: LogitMask, response: readonly number[]): Replayed {
  const allowed: number[][] = [];
  for (let j = 0; j < response.length; j++) {
    let m: ArrayLike<number> | undefined;
    try {
      m = mask(0, response.slice(0, j));
    } catch {
      return { ok: false, position: j };
    }
    if (m === undefined) return { ok: false, position: j };
    const ids: number[] = [];
    for (let i = 0; i < m.length; i++) if (m[i]) ids.push(i);
    if (!m[response[j]!]) return { ok: false, position: j };
    allowed.push(ids);
  }
  return { ok: true, allowed };
}

/**
 * The judge's allowed sets for a checked sample: `mask` replayed over its response (undefined
 * without a mask: unconstrained decoding). A token outside its set throws `reject(message)`.
 */
export function judgedAllowed(s: Sample, mask: LogitMask | undefined, what: string, reject: (message: string) => Error): number[][] | undefined {
  if (!mask) return undefined;
  const r = replayMask(mask, s.tokens.slice(s.promptLength));
  if (!r.ok) throw reject(`${what}: response token ${r.position} is outside the grammar's allowed set`);
  return r.allowed;
}

/** A copy of a checked sample with only the Sample fields, the judge's allowed sets and the role the judge assigns. */
export function judgedSample(s: Sample, role: string, allowed: number[][] | undefined): Sample {
  return { tokens: [...s.tokens], promptLength: s.promptLength, logprobs: [...s.logprobs], allowed, policyVersion: s.policyVersion, role };
}
