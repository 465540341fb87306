export { Graph, KNOWN_OPS, ONNX_DTYPE, STOP_GRADIENT, typedOf } from './graph.ts';
export { gradients } from './autodiff.ts';
export { GRADIENT_RULES, unbroadcast, type GradientRule, type RuleContext } from './rules.ts';
export { serialize, OPSET, type SerializeOptions } from './serialize.ts';
export * from './types.ts';
