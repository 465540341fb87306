import type { TSchema, Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError, type FieldIssue } from './errors.ts';

/** Validate (after applying schema defaults); returns the value or every issue with its path. */
export function check<T extends TSchema>(schema: T, input: unknown, prefix = ''): { value: Static<T>; issues: FieldIssue[] } {
  const value = Value.Default(schema, structuredClone(input)) as Static<T>;
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(schema, value)) {
    const key = `${e.path}|${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path: prefix + e.path, message: describe(e.schema, e.value, e.message) });
  }
  return { value, issues };
}

/** A choice among literals names the choices ("Expected union value" alone does not help). */
function describe(schema: TSchema, value: unknown, message: string): string {
  const options = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (!options?.length || !options.every((o) => 'const' in o)) return message;
  return `expected one of ${options.map((o) => JSON.stringify(o.const)).join(', ')}, got ${JSON.stringify(value) ?? 'nothing'}`;
}

export function parseWith<T extends TSchema>(schema: T, input: unknown, what: string): Static<T> {
  const { value, issues } = check(schema, input);
  if (issues.length) throw new ValidationError(what, issues);
  return value;
}

export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}
