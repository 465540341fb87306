export * from './errors.ts';
export * from './graph/index.ts';
export * from './runtime/session.ts';
