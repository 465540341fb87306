export { AdvantageEstimator, bucket } from './estimator.ts';
export type { EstimatorBatch, EstimatorResult, IndexArray } from './batch.ts';
export { referenceAdvantages } from './reference.ts';
export {
  DEFAULT_DECAY, DEFAULT_NUM_KEYS, ESTIMATOR_KINDS, EstimatorSpecSchema, isStateful, resolveSpec,
  type EstimatorKind, type EstimatorSpec, type ResolvedSpec, type ZeroVarianceRule,
} from './spec.ts';
