import { baseConfig, type ModelConfig } from './config.ts';
import { adaptedParams, loraA, loraB, loraScale } from './lora.ts';
import { paramSpecs } from './params.ts';

/**
 * Fold a LoRA model's adapters into its base: W + (alpha/rank)·A·B for every adapted projection
 * (accumulated in float64, rounded once). `params` holds the base and the adapters; the result is
 * the base model (no `lora`) with the merged weights, which computes what the adapted model does.
 * A model without LoRA comes back as it is.
 */
export function mergeLora(c: ModelConfig, params: Readonly<Record<string, Float32Array>>): { config: ModelConfig; params: Record<string, Float32Array> } {
  if (!c.lora) return { config: c, params: { ...params } };
  const base = baseConfig(c);
  const scale = loraScale(c.lora);
  const r = c.lora.rank;
  const adapted = new Set(adaptedParams(c));
  const out: Record<string, Float32Array> = {};
  for (const p of paramSpecs(base)) {
    const w = params[p.name];
    if (!w) throw new Error(`mergeLora: parameter ${p.name} missing`);
    const m = /^layer\d+\.(.+)$/.exec(p.name);
    if (!m || !adapted.has(m[1]!)) { out[p.name] = w; continue; }
    const a = params[loraA(p.name)];
    const b = params[loraB(p.name)];
    if (!a || !b) throw new Error(`mergeLora: adapter of ${p.name} missing`);
    const [rows, cols] = p.shape as [number, number];
    const merged = new Float32Array(w.length);
    const acc = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      acc.fill(0);
      for (let k = 0; k < r; k++) {
        const aik = a[i * r + k]!;
        if (aik === 0) continue;
        for (let j = 0; j < cols; j++) acc[j] = acc[j]! + aik * b[k * cols + j]!;
      }
      for (let j = 0; j < cols; j++) merged[i * cols + j] = w[i * cols + j]! + scale * acc[j]!;
    }
    out[p.name] = merged;
  }
  return { config: base, params: out };
}
