export * from './errors.ts';
export * from './graph/index.ts';
export { countFlops } from './graph/flops.ts';
export * from './runtime/session.ts';
export { ModelConfigSchema, parseModelConfig, baseConfig, headDim, kvHeads, ropeTheta, type ModelConfig, type ModelConfigInput } from './model/config.ts';
export { paramSpecs, trainableSpecs, initParams, countParams, type ParamSpec } from './model/params.ts';
export { LoraConfigSchema, LORA_TARGETS, type LoraConfig, type LoraTarget } from './model/lora.ts';
export { mergeLora } from './model/lora-merge.ts';
export { LossConfigSchema, parseLossConfig, type LossConfig } from './train/loss.ts';
export { OptimizerConfigSchema, parseOptimizerConfig, type OptimizerConfig } from './train/optimizer.ts';
export type { AllowedSets, TrainSample } from './engine/batch.ts';
export type { EngineState, StepMetrics } from './engine/core.ts';
export type { GenerateOptions, GenerateResult, Generation, LogitMask } from './generate/generate.ts';
export { Policy, type PolicyOptions } from './policy.ts';
export { Learner } from './learner.ts';
export { savePolicy, loadPolicy, restorePolicy, policyWeights, applyWeights, exportOnnx, POLICY_FORMAT, type SaveOptions, type LoadedPolicy, type Weights, type ExportOptions } from './persist.ts';
export * from './checkpoint/index.ts';
export {
  loadHfTokenizer, HF_CHAT_TEMPLATE_FILE, HF_GENERATION_CONFIG_FILE, HF_SPECIAL_TOKENS_FILE, HF_TOKENIZER_CONFIG_FILE, HF_TOKENIZER_FILE,
  type HfDecodeOptions, type HfEncodeOptions, type HfTokenizer,
} from './hf/tokenizer.ts';
export type { ChatMessage, ChatTemplateOptions } from './hf/chat-template.ts';
export { readLoraAdapters, readSourceWeights, type SourceWeights } from './source-weights.ts';
export { modelShape, shapeMismatch } from './model/shape-match.ts';
export * from './vocab/index.ts';
export * from './estimators/index.ts';
export * from './hf/index.ts';
