import type { GenerateOptions, GenerateResult } from '../src/generate/generate.ts';

interface Scorer {
  generate(prompts: readonly ArrayLike<number>[], opts: GenerateOptions): Promise<GenerateResult>;
  score(sequences: readonly ArrayLike<number>[]): Promise<Float32Array[]>;
}

/**
 * Generate from `prompts` with the KV cache, then score each prompt + generation in one full
 * forward pass: the generated rows and the largest |cached − scored| log-prob over every
 * generated token (0 when the cache computes exactly what full scoring does).
 */
export async function cachedVsScored(policy: Scorer, prompts: readonly (readonly number[])[], opts: GenerateOptions): Promise<{ rows: GenerateResult['rows']; maxGap: number }> {
  const res = await policy.generate(prompts, opts);
  const scored = await policy.score(prompts.map((p, i) => [...p, ...res.rows[i]!.tokens]));
  let maxGap = 0;
  res.rows.forEach((row, i) => row.logprobs.forEach((lp, j) => { maxGap = Math.max(maxGap, Math.abs(lp - scored[i]![prompts[i]!.length + j]!)); }));
  return { rows: res.rows, maxGap };
}
