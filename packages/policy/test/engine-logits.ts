import { Graph, serialize } from '../src/graph/index.ts';
import type { TensorData } from '../src/graph/types.ts';
import type { ModelConfig } from '../src/model/config.ts';
import { paramSpecs } from '../src/model/params.ts';
import { declareParams, forward } from '../src/model/transformer.ts';
import { createSession, runSession } from '../src/runtime/session.ts';

/** The engine's float32 logits [B·T·V] of a model for `ids`, from a forward graph in a real ORT session. */
export async function engineLogits(c: ModelConfig, params: Readonly<Record<string, Float32Array>>, ids: readonly (readonly number[])[]): Promise<Float32Array> {
  const [B, T] = [ids.length, ids[0]!.length];
  const g = new Graph('float32');
  const p = declareParams(g, c);
  g.output(forward(g, c, p, g.input('ids', 'int64', [B, T])).logits, 'logits');
  const session = await createSession(serialize(g), { threads: 1 });
  const feeds: Record<string, TensorData> = { ids: { dtype: 'int64', shape: [B, T], data: BigInt64Array.from(ids.flat().map(BigInt)) } };
  for (const s of paramSpecs(c)) feeds[s.name] = { dtype: 'float32', shape: s.shape, data: params[s.name]! };
  const out = await runSession(session, feeds);
  await session.release();
  return out.logits!.data as Float32Array;
}
