import type { Shape } from '../graph/types.ts';
import { type ModelConfig, headDim, kvHeads } from './config.ts';
import { adaptedParams, loraA, loraB } from './lora.ts';

export interface ParamSpec {
  readonly name: string;
  readonly shape: Shape;
  readonly init: 'normal' | 'ones' | 'zeros';
  /** Standard deviation multiplier for 'normal' (residual projections are scaled down). */
  readonly scale?: number;
  /** Standard deviation for 'normal' that replaces initStd·scale (LoRA's A). */
  readonly std?: number;
  /** Subject to decoupled weight decay (matrices only; never norms). */
  readonly decay: boolean;
  /** A base weight under LoRA: fed to every graph, never trained, checkpointed or published. */
  readonly frozen?: boolean;
}

/** The parameter list of a model, in a fixed order (the order of graph inputs and checkpoints). */
export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const d = c.dModel;
  const q = c.heads * headDim(c);
  const kv = kvHeads(c) * headDim(c);
  const resid = 1 / Math.sqrt(2 * c.layers);
  const specs: ParamSpec[] = [{ name: 'embed', shape: [c.vocabSize, d], init: 'normal', decay: false }];
  if (c.positions === 'learned') specs.push({ name: 'pos', shape: [c.context, d], init: 'normal', decay: false });
  for (let l = 0; l < c.layers; l++) {
    const p = `layer${l}.`;
    specs.push(
      { name: `${p}attnNorm`, shape: [d], init: 'ones', decay: false },
      { name: `${p}wq`, shape: [d, q], init: 'normal', decay: true },
      { name: `${p}wk`, shape: [d, kv], init: 'normal', decay: true },
      { name: `${p}wv`, shape: [d, kv], init: 'normal', decay: true },
    );
    if (c.attnBias) {
      specs.push(
        { name: `${p}bq`, shape: [q], init: 'zeros', decay: false },
        { name: `${p}bk`, shape: [kv], init: 'zeros', decay: false },
        { name: `${p}bv`, shape: [kv], init: 'zeros', decay: false },
      );
    }
    if (c.qkNorm) {
      specs.push(
        { name: `${p}qNorm`, shape: [headDim(c)], init: 'ones', decay: false },
        { name: `${p}kNorm`, shape: [headDim(c)], init: 'ones', decay: false },
      );
    }
    specs.push(
      { name: `${p}wo`, shape: [q, d], init: 'normal', scale: resid, decay: true },
      { name: `${p}mlpNorm`, shape: [d], init: 'ones', decay: false },
      { name: `${p}w1`, shape: [d, c.ffn], init: 'normal', decay: true },
    );
    if (c.activation === 'swiglu') specs.push({ name: `${p}w3`, shape: [d, c.ffn], init: 'normal', decay: true });
    specs.push({ name: `${p}w2`, shape: [c.ffn, d], init: 'normal', scale: resid, decay: true });
  }
  specs.push({ name: 'finalNorm', shape: [d], init: 'ones', decay: false });
  if (!c.tieEmbeddings) specs.push({ name: 'head', shape: [d, c.vocabSize], init: 'normal', decay: true });
  if (!c.lora) return specs;
  // LoRA: the base is frozen; the adapters come last, so the base's initialisation is unchanged.
  const frozen: ParamSpec[] = specs.map((s) => ({ ...s, frozen: true }));
  const r = c.lora.rank;
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (let l = 0; l < c.layers; l++) {
    for (const w of adaptedParams(c)) {
      const name = `layer${l}.${w}`;
      const [fanIn, fanOut] = byName.get(name)!.shape as [number, number];
      // A as PEFT draws it (Kaiming-uniform, a = √5: U(±1/√in), std 1/√(3·in)), here normal with that std; B zero.
      frozen.push(
        { name: loraA(name), shape: [fanIn, r], init: 'normal', std: 1 / Math.sqrt(3 * fanIn), decay: true },
        { name: loraB(name), shape: [r, fanOut], init: 'zeros', decay: true },
      );
    }
  }
  return frozen;
}

/** The parameters a learner trains (and checkpoints and publishes): all, or with LoRA the adapters. */
export function trainableSpecs(c: ModelConfig): ParamSpec[] {
  return paramSpecs(c).filter((s) => !s.frozen);
}

/** Seeded, platform-independent normal generator (splitmix32 + Box–Muller). */
export function normalGenerator(seed: number): () => number {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) { const v = spare; spare = undefined; return v; }
    const u = Math.max(next(), 1e-12);
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Deterministic initial weights for a config (same seed → bit-identical weights). `trainableOnly`:
 * skip frozen base weights (a LoRA model whose base is read from elsewhere).
 */
export function initParams(c: ModelConfig, trainableOnly = false): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const specs = paramSpecs(c);
  specs.forEach((p, i) => {
    if (trainableOnly && p.frozen) return;
    const n = p.shape.reduce((s, d) => s * d, 1);
    const a = new Float32Array(n);
    if (p.init === 'ones') a.fill(1);
    else if (p.init === 'normal') {
      const rnd = normalGenerator((c.seed * 1000003 + i * 7919) >>> 0);
      const std = p.std ?? c.initStd * (p.scale ?? 1);
      for (let j = 0; j < n; j++) a[j] = rnd() * std;
    }
    out.set(p.name, a);
  });
  return out;
}

export function countParams(c: ModelConfig): number {
  return paramSpecs(c).reduce((s, p) => s + p.shape.reduce((a, d) => a * d, 1), 0);
}
