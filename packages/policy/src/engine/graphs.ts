import { Graph } from '../graph/graph.ts';
import { headDim, kvHeads, type ModelConfig } from '../model/config.ts';
import { declareParams, decodeStep, forward, forwardHidden, logitsAt, tokenLogprobs } from '../model/transformer.ts';

/**
 * The inference graphs the engine compiles, one per static shape (see SessionCache keys in
 * core.ts). Parameters are inputs, so one compiled graph serves every policy version.
 */

/**
 * Per-token log-probs `logp` [B, T] of `targets` given `ids`. With `masked`, an additive
 * `logitMask` [B, T, V] input restricts each position's distribution; without it no [B, T, V]
 * input exists.
 */
export function buildScoreGraph(c: ModelConfig, B: number, T: number, masked: boolean): Graph {
  const g = new Graph('float32');
  const p = declareParams(g, c);
  const ids = g.input('ids', 'int64', [B, T]);
  const targets = g.input('targets', 'int64', [B, T]);
  let logits = forward(g, c, p, ids).logits;
  if (masked) logits = g.add(logits, g.input('logitMask', 'float32', [B, T, c.vocabSize]));
  g.output(tokenLogprobs(g, logits, targets).logp, 'logp');
  return g;
}

/**
 * Generation prefill over right-padded prompts `ids` [B, T]: outputs `logits` [B, V] at each
 * row's last prompt position (input `last` [B] int64, flat index b·T + length − 1), so the head
 * runs on B rows rather than B·T, and keys `k<l>` / values `v<l>` [B, kvHeads, T, dh] per layer.
 */
export function buildPrefillGraph(c: ModelConfig, B: number, T: number): Graph {
  const g = new Graph('float32');
  const p = declareParams(g, c);
  const ids = g.input('ids', 'int64', [B, T]);
  const last = g.input('last', 'int64', [B]);
  const f = forwardHidden(g, c, p, ids);
  g.output(logitsAt(g, c, p, f.hidden, last), 'logits');
  f.keys.forEach((k, l) => g.output(k, `k${l}`));
  f.values.forEach((v, l) => g.output(v, `v${l}`));
  return g;
}

/**
 * One decode step for B rows against caches `kc<l>` / `vc<l>` [B, kvHeads, C, dh]: inputs `ids`
 * [B, 1] and `positions` [B]; outputs `logits` [B, V] and the new token's `k<l>` / `v<l>`.
 */
export function buildDecodeGraph(c: ModelConfig, B: number, C: number): Graph {
  const H = kvHeads(c); // the cache holds key/value heads only
  const dh = headDim(c);
  const g = new Graph('float32');
  const p = declareParams(g, c);
  const ids = g.input('ids', 'int64', [B, 1]);
  const pos = g.input('positions', 'int64', [B]);
  const kc = [...Array(c.layers).keys()].map((l) => g.input(`kc${l}`, 'float32', [B, H, C, dh]));
  const vc = [...Array(c.layers).keys()].map((l) => g.input(`vc${l}`, 'float32', [B, H, C, dh]));
  const d = decodeStep(g, c, p, ids, pos, kc, vc);
  g.output(d.logits, 'logits');
  d.keys.forEach((k, l) => g.output(k, `k${l}`));
  d.values.forEach((v, l) => g.output(v, `v${l}`));
  return g;
}
