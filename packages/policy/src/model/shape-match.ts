import type { ModelConfig } from './config.ts';
import { paramSpecs } from './params.ts';

/** The fields that decide the weight shapes; a warm-start source must match them all. */
export function modelShape(c: ModelConfig): Record<string, number | boolean> {
  const s: Record<string, number | boolean> = { vocabSize: c.vocabSize, context: c.context, dModel: c.dModel, layers: c.layers, heads: c.heads, ffn: c.ffn };
  // The architecture options appear only where a config sets them (older messages stay as they were).
  for (const k of ['kvHeads', 'headDim', 'attnBias', 'qkNorm'] as const) if (c[k] !== undefined) s[k] = c[k];
  return s;
}

/** Why `source` cannot seed a policy of `target` (undefined when the shapes agree). */
export function shapeMismatch(target: ModelConfig, source: ModelConfig): string | undefined {
  const a = paramSpecs(target).map((p) => `${p.name}[${p.shape.join('x')}]`).join(' ');
  const b = paramSpecs(source).map((p) => `${p.name}[${p.shape.join('x')}]`).join(' ');
  if (a === b) return undefined;
  const fmt = (c: ModelConfig) => JSON.stringify(modelShape(c));
  return `model config mismatch: this experiment's policy is ${fmt(target)}, the warm-start source's is ${fmt(source)}`;
}
