export * from './errors.ts';
export * from './ids.ts';
export * from './keys.ts';
export * from './messages.ts';
export * from './experiment.ts';
export * from './limits.ts';
export * from './policies.ts';
export { check, parseWith, deepFreeze, nestsDeeperThan, MAX_NESTING_DEPTH } from './validate.ts';
