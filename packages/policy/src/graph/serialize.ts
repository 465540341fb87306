import onnxProto from 'onnx-proto';
import { ONNX_DTYPE, type Graph } from './graph.ts';
import type { Attr, TensorData, Value } from './types.ts';

const { onnx } = onnxProto;
export const OPSET = 20;

function valueInfo(v: Value, name = v.name) {
  return {
    name,
    type: { tensorType: { elemType: ONNX_DTYPE[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  };
}

function attrProto(name: string, a: Attr) {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int': return { name, type: T.INT, i: a.value };
    case 'float': return { name, type: T.FLOAT, f: a.value };
    case 'ints': return { name, type: T.INTS, ints: [...a.value] };
    case 'floats': return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string': return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}

export function tensorProto(name: string, t: TensorData) {
  const d = t.data;
  const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return { name, dims: [...t.shape], dataType: ONNX_DTYPE[t.dtype], rawData: raw };
}

export interface SerializeOptions {
  /** Graph name in the model proto. */
  name?: string;
  /** Extra metadata_props (e.g. model config, tokenizer hash). */
  metadata?: Record<string, string>;
}

/** Encode a built graph as an ONNX ModelProto (IR 9, opset 20). */
export function serialize(g: Graph, opts: SerializeOptions = {}): Uint8Array {
  const byId = new Map<number, Value>();
  for (const n of g.nodes) for (const v of [...n.inputs, ...n.outputs]) byId.set(v.id, v);
  const initializer = [...g.initializers.entries()].map(([id, t]) => tensorProto(byId.get(id)?.name ?? `unused${id}`, t))
    .filter((t) => !t.name.startsWith('unused'));
  const model = onnx.ModelProto.create({
    irVersion: 9,
    producerName: 'spar',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: opts.name ?? 'spar',
      node: g.nodes.map((n, i) => ({
        name: `${n.op}_${i}`,
        opType: n.op,
        input: n.inputs.map((v) => v.name),
        output: n.outputs.map((v) => v.name),
        // spar-private attributes (e.g. the stop-gradient marker) are not ONNX attributes.
        attribute: Object.entries(n.attrs).filter(([k]) => !k.startsWith('spar_')).map(([k, a]) => attrProto(k, a)),
      })),
      input: g.inputs.map((v) => valueInfo(v)),
      output: g.outputs.map((o) => valueInfo(o.value, o.name)),
      initializer,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
