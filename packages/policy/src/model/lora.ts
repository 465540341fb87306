/**
 * LoRA (Hu et al. 2021): low-rank adapters on a frozen base model. A targeted projection
 * x·W [in → out] becomes x·W + (alpha/rank)·(x·A)·B with A [in, rank] and B [rank, out]; B starts
 * at zero, so an adapted model starts as its base. Only the adapters train, have optimizer moments,
 * are checkpointed and are published to workers; the base is the model's `lora.base` folder (a
 * Hugging Face model every service reads) or, without one, the seeded initialisation every
 * service computes identically. Merging folds the adapters into the base (W + (alpha/rank)·A·B).
 *
 * Targets use the Hugging Face / PEFT projection names; spar's parameter for each depends on the
 * MLP: a gated (SwiGLU) MLP has gate_proj = w1, up_proj = w3; a non-gated (GELU) one has only
 * up_proj = w1. down_proj is w2 in both.
 */
import { Type, type Static } from '@sinclair/typebox';

export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** What an experiment sets (`policy.lora`). */
export const LoraConfigSchema = Type.Object({
  rank: Type.Integer({ minimum: 1, maximum: 1024, default: 8, description: 'rank r of each adapter (A [in, r], B [r, out])' }),
  alpha: Type.Number({ exclusiveMinimum: 0, maximum: 1e6, default: 16, description: 'the adapter output is scaled by alpha / rank' }),
  targets: Type.Optional(Type.Array(Type.Union(LORA_TARGETS.map((t) => Type.Literal(t))), {
    minItems: 1, uniqueItems: true,
    description: 'projections that get adapters, by their Hugging Face names (default: every attention and MLP projection the model has)',
  })),
}, { additionalProperties: false });

/** The model's LoRA section: the experiment's, plus the base it adapts. */
export const ModelLoraSchema = Type.Object({
  ...LoraConfigSchema.properties,
  base: Type.Optional(Type.String({ minLength: 1, description: 'a Hugging Face model folder holding the frozen base weights (absent: the seeded initialisation)' })),
}, { additionalProperties: false });

export type LoraConfig = Static<typeof LoraConfigSchema>;
export type ModelLora = Static<typeof ModelLoraSchema>;

interface LoraShape {
  readonly activation: 'gelu' | 'swiglu';
  readonly lora?: ModelLora;
}

/** spar's parameter (within a layer) for a target, or undefined when the model has no such projection. */
export function targetParam(c: LoraShape, t: LoraTarget): string | undefined {
  switch (t) {
    case 'q_proj': return 'wq';
    case 'k_proj': return 'wk';
    case 'v_proj': return 'wv';
    case 'o_proj': return 'wo';
    case 'down_proj': return 'w2';
    case 'gate_proj': return c.activation === 'swiglu' ? 'w1' : undefined;
    case 'up_proj': return c.activation === 'swiglu' ? 'w3' : 'w1';
  }
}

/** The targets of a model with LoRA (its own, or every projection it has), in LORA_TARGETS order. */
export function loraTargets(c: LoraShape): LoraTarget[] {
  if (!c.lora) return [];
  const named = c.lora.targets;
  return LORA_TARGETS.filter((t) => (named ? named.includes(t) : targetParam(c, t) !== undefined));
}

/** The spar parameters (within a layer: 'wq', 'w1', ...) that carry adapters. */
export function adaptedParams(c: LoraShape): string[] {
  return loraTargets(c).map((t) => targetParam(c, t)!);
}

/** The scale alpha / rank the adapter output is multiplied by. */
export function loraScale(lora: ModelLora): number {
  return lora.alpha / lora.rank;
}

export const loraA = (param: string) => `${param}.loraA`;
export const loraB = (param: string) => `${param}.loraB`;
