export { modelConfigFromHf, HF_MODEL_TYPES, type HfConfigOptions, type HfModelType } from './config.ts';
export { bf16ToF32, f16ToF32 } from './dtype.ts';
export { hfSlots, paramsFromHf } from './weights.ts';
export { readHfModel, HF_CONFIG_FILE, HF_INDEX_FILE, HF_WEIGHTS_FILE, type HfModel } from './read.ts';
export { loadHfPolicy } from './load.ts';
