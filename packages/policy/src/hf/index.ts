export { modelConfigFromHf, hfModelTypeFor, hfConfigJson, HF_MODEL_TYPES, type HfConfigOptions, type HfModelType, type HfSpecialIds } from './config.ts';
export { bf16ToF32, f16ToF32, f32ToBf16 } from './dtype.ts';
export { hfSlots, paramsFromHf, paramsToHf } from './weights.ts';
export { readHfModel, HF_CONFIG_FILE, HF_INDEX_FILE, HF_WEIGHTS_FILE, type HfModel } from './read.ts';
export { loadHfPolicy } from './load.ts';
export { writeHfModel, HF_TOKENIZER_FILES, type HfExport, type HfExportOptions } from './export.ts';
export { vocabularyTokenizerFiles } from './vocab-tokenizer.ts';
export { writePeftAdapter, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, type PeftExportOptions } from './peft.ts';
export { hfTextCodec, loadHfTextModel, HF_TEXT_CONTEXT, type HfTextModel, type HfTextModelOptions } from './text-model.ts';
