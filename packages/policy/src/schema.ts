// @spar/policy/schema: the native-free part of the policy package — configuration schemas and
// parsers, the vocabulary and its token ids, the Hugging Face tokenizer and chat template (pure
// JavaScript), an imported model's config and text codec (loadHfTextModel), parameter counting, and the types that go with them.
// Nothing reachable from here loads onnxruntime-node or the engine, so a process that only
// validates configs or tokenizes (the controller, @spar/core, recipes) never loads the native
// runtime. Keep it that way: services/controller/test/no-native.test.ts checks it.
export { ConfigError, PolicyError } from './errors.ts';
export { ModelConfigSchema, parseModelConfig, headDim, kvHeads, ropeTheta, type ModelConfig, type ModelConfigInput } from './model/config.ts';
export { paramSpecs, trainableSpecs, initParams, countParams, type ParamSpec } from './model/params.ts';
export { LoraConfigSchema, LORA_TARGETS, type LoraConfig, type LoraTarget } from './model/lora.ts';
export { LossConfigSchema, parseLossConfig, type LossConfig } from './train/loss.ts';
export { OptimizerConfigSchema, parseOptimizerConfig, type OptimizerConfig } from './train/optimizer.ts';
export {
  DEFAULT_DECAY, DEFAULT_NUM_KEYS, ESTIMATOR_KINDS, EstimatorSpecSchema, isStateful, resolveSpec,
  type EstimatorKind, type EstimatorSpec, type ResolvedSpec, type ZeroVarianceRule,
} from './estimators/spec.ts';
export * from './vocab/index.ts';
export type { GenerateOptions, GenerateResult, Generation, LogitMask } from './generate/generate.ts';
export { modelShape, shapeMismatch } from './model/shape-match.ts';
export { ChatTemplateError, HfTokenizerError } from './errors.ts';
export {
  loadHfTokenizer, HF_CHAT_TEMPLATE_FILE, HF_GENERATION_CONFIG_FILE, HF_SPECIAL_TOKENS_FILE, HF_TOKENIZER_CONFIG_FILE, HF_TOKENIZER_FILE,
  type HfDecodeOptions, type HfEncodeOptions, type HfTokenizer,
} from './hf/tokenizer.ts';
export type { ChatMessage, ChatTemplateOptions } from './hf/chat-template.ts';
export { hfTextCodec, loadHfTextModel, HF_TEXT_CONTEXT, type HfTextModel, type HfTextModelOptions } from './hf/text-model.ts';
export type { HfModelType } from './hf/config.ts';
