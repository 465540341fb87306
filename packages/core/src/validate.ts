import type { TSchema, Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError, type FieldIssue } from './errors.ts';

/** Deepest nesting of objects/arrays accepted as input; a cyclic value (YAML `&a [*a]`) counts as deeper. */
export const MAX_NESTING_DEPTH = 64;

/**
 * Whether `v` nests objects/arrays deeper than `max` levels. Iterative, so hostile input (10k nested
 * arrays) cannot overflow the stack here; it stops at the first path that goes too deep.
 */
export function nestsDeeperThan(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Validate (after applying schema defaults); returns the value or every issue with its path.
 * Input nested deeper than MAX_NESTING_DEPTH is refused before it is cloned (structuredClone and
 * the validator recurse and would overflow the stack on it).
 */
export function check<T extends TSchema>(schema: T, input: unknown, prefix = ''): { value: Static<T>; issues: FieldIssue[] } {
  if (nestsDeeperThan(input, MAX_NESTING_DEPTH)) {
    throw new ValidationError('input', [{ path: prefix, message: `nested deeper than the limit of ${MAX_NESTING_DEPTH} levels (or cyclic)` }]);
  }
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
