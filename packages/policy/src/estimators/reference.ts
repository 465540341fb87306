import { prepareBatch, type EstimatorBatch, type EstimatorResult, type PreparedBatch } from './batch.ts';
import { isStateful, resolveSpec, RUNNING_ZERO_VARIANCE, type EstimatorSpec, type ResolvedSpec } from './spec.ts';

/**
 * Plain-TypeScript oracle for the estimator graphs, in float64 (inputs are first rounded to
 * float32, as the graph receives them). Written as the loops the papers describe, not as the
 * graph's matrix formulation, so that tests compare two independent derivations.
 */
export function referenceAdvantages(spec: EstimatorSpec, batch: EstimatorBatch, state?: Float32Array): EstimatorResult {
  const s = resolveSpec(spec);
  const b = prepareBatch(s, batch, state);
  if (s.kind === 'rae') return referenceRae(s, b);
  return isStateful(s) ? referenceRunningTrr(s, b) : referenceGrouped(s, b);
}

/** grpo, drgrpo, rloo (groups) and reinforce++, trr++ (one segment / several segments). */
function referenceGrouped(s: ResolvedSpec, b: PreparedBatch): EstimatorResult {
  const rowsOf: number[][] = Array.from({ length: b.numMembers }, () => []);
  for (let i = 0; i < b.rows; i++) rowsOf[b.member[i]!]!.push(i);
  const advantages = new Float32Array(b.rows);
  const keep = new Uint8Array(b.rows).fill(1);
  let zeroVarianceGroups = 0;
  for (const rows of rowsOf) {
    const r = rows.map((i) => b.rewards[i]!);
    const n = r.length;
    // Zero variance is exact equality of the (float32) rewards; a singleton always qualifies.
    if (r.every((x) => x === r[0])) {
      zeroVarianceGroups++;
      if (s.zeroVariance === 'drop') for (const i of rows) keep[i] = 0;
      continue; // advantages stay 0
    }
    const mean = r.reduce((a, x) => a + x, 0) / n;
    const variance = r.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1); // unbiased; n >= 2 here
    rows.forEach((i, j) => {
      const x = r[j]!;
      switch (s.kind) {
        case 'grpo': advantages[i] = (x - mean) / (Math.sqrt(variance) + s.eps); break;
        case 'drgrpo': advantages[i] = x - mean; break;
        case 'rloo': advantages[i] = x - (mean * n - x) / (n - 1); break;
        default: advantages[i] = (x - mean) / Math.sqrt(variance + s.eps); // reinforce++, trr++
      }
    });
  }
  return { advantages, keep, zeroVarianceGroups };
}

/** RAE: rows in batch order, one sequential EMA step per row on its key's baseline. */
function referenceRae(s: ResolvedSpec, b: PreparedBatch): EstimatorResult {
  const base = Float64Array.from(b.state!);
  const advantages = new Float32Array(b.rows);
  for (let i = 0; i < b.rows; i++) {
    const k = b.member[i]!;
    const r = b.rewards[i]!;
    advantages[i] = r - base[k]!;
    base[k] = s.decay * base[k]! + (1 - s.decay) * r;
  }
  return { advantages, keep: new Uint8Array(b.rows).fill(1), zeroVarianceGroups: 0, state: Float32Array.from(base) };
}

/**
 * TRR++ with running statistics: per segment slot, fold this batch's rows into the decayed sums,
 * then whiten the slot's rows with the combined mean and biased variance (in float64).
 */
function referenceRunningTrr(s: ResolvedSpec, b: PreparedBatch): EstimatorResult {
  const K = s.numKeys;
  const st = b.state!;
  const out = new Float64Array(3 * K);
  const advantages = new Float32Array(b.rows);
  const keep = new Uint8Array(b.rows).fill(1);
  let zeroVarianceGroups = 0;
  for (let k = 0; k < K; k++) {
    const rows: number[] = [];
    for (let i = 0; i < b.rows; i++) if (b.member[i] === k) rows.push(i);
    let w = s.decay * st[k]!;
    let m1 = s.decay * st[K + k]!;
    let m2 = s.decay * st[2 * K + k]!;
    for (const i of rows) {
      w += 1;
      m1 += b.rewards[i]!;
      m2 += b.rewards[i]! ** 2;
    }
    out[k] = w;
    out[K + k] = m1;
    out[2 * K + k] = m2;
    if (rows.length === 0) continue; // absent: only decays
    const mu = m1 / w;
    const variance = Math.max(0, m2 / w - mu * mu);
    if (variance < RUNNING_ZERO_VARIANCE) {
      zeroVarianceGroups++;
      if (s.zeroVariance === 'drop') for (const i of rows) keep[i] = 0;
      continue; // advantages stay 0
    }
    for (const i of rows) advantages[i] = (b.rewards[i]! - mu) / Math.sqrt(variance + s.eps);
  }
  return { advantages, keep, zeroVarianceGroups, state: Float32Array.from(out) };
}
