export * from './errors.ts';
export * from './ids.ts';
export * from './keys.ts';
export * from './messages.ts';
export * from './experiment.ts';
export { check, parseWith, deepFreeze } from './validate.ts';
