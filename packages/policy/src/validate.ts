import { type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from './errors.ts';

/**
 * Parse `input` against a TypeBox schema: apply defaults, reject unknown keys (schemas are
 * declared with additionalProperties: false), and throw ConfigError listing every bad field.
 * The result is deep-frozen.
 */
export function parseConfig<T extends TSchema>(schema: T, input: unknown, what: string): Static<T> {
  const value = Value.Default(schema, structuredClone(input ?? {}));
  const issues = [...Value.Errors(schema, value)].map((e) => ({ path: e.path, message: e.message }));
  if (issues.length) throw new ConfigError(what, issues);
  return deepFreeze(value) as Static<T>;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}
