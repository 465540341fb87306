import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { check, MAX_NESTING_DEPTH, MAX_YAML_ALIASES, nestsDeeperThan, parseConfigText, parseExperiment, ValidationError, type RecipeSchemas } from '../src/index.ts';

const issuesOf = (fn: () => unknown): { path: string; message: string }[] => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${(err as Error).name}: ${(err as Error).message}`);
    return [...err.issues];
  }
  assert.fail('no error');
};

function nested(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

// The smallest registry: one recipe whose options are anything.
const recipes: RecipeSchemas = { names: () => ['r'], optionsSchema: (n) => (n === 'r' ? Type.Unknown() : undefined) };

test('YAML: an alias to no anchor and an alias bomb are validation errors at ""', () => {
  const unresolved = issuesOf(() => parseConfigText('name: *x\n'));
  assert.equal(unresolved[0]!.path, '');
  assert.match(unresolved[0]!.message, /^alias: Unresolved alias/);
  const rows = ['a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]'];
  for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f']]) rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
  const bomb = issuesOf(() => parseConfigText(`${rows.join('\n')}\n`));
  assert.deepEqual(bomb, [{ path: '', message: `alias: more than ${MAX_YAML_ALIASES} alias expansions` }]);
  // A few aliases are still fine.
  assert.deepEqual(parseConfigText('a: &x [1, 2]\nb: *x\n'), { a: [1, 2], b: [1, 2] });
});

test('YAML nested past the parser stack is a syntax issue, not a RangeError', () => {
  const issues = issuesOf(() => parseConfigText(`${'['.repeat(100_000)}${']'.repeat(100_000)}`));
  assert.equal(issues[0]!.path, '');
  assert.match(issues[0]!.message, /^syntax: /);
});

test('nestsDeeperThan counts levels iteratively and treats a cycle as too deep', () => {
  assert.equal(nestsDeeperThan(nested(MAX_NESTING_DEPTH, 'array'), MAX_NESTING_DEPTH), false);
  assert.equal(nestsDeeperThan(nested(MAX_NESTING_DEPTH + 1, 'object'), MAX_NESTING_DEPTH), true);
  assert.equal(nestsDeeperThan(nested(200_000, 'array'), MAX_NESTING_DEPTH), true);
  assert.equal(nestsDeeperThan('text', 0), false);
  const cyclic = parseConfigText('a: &x [*x]\n');
  assert.equal(nestsDeeperThan(cyclic, MAX_NESTING_DEPTH), true);
});

test('deep or cyclic input is refused before structuredClone, naming the limit', () => {
  const limit = new RegExp(`deeper than the limit of ${MAX_NESTING_DEPTH} levels`);
  for (const kind of ['array', 'object'] as const) {
    const issues = issuesOf(() => parseExperiment({ name: 'x', recipe: 'r', options: nested(10_000, kind) }, recipes));
    assert.equal(issues[0]!.path, '');
    assert.match(issues[0]!.message, limit);
  }
  assert.match(issuesOf(() => parseExperiment(parseConfigText('&x {name: *x}'), recipes))[0]!.message, limit);
  assert.match(issuesOf(() => check(Type.Unknown(), nested(10_000, 'array'), '/options'))[0]!.message, limit);
  assert.equal(issuesOf(() => check(Type.Unknown(), nested(10_000, 'array'), '/options'))[0]!.path, '/options');
  // Legitimate nesting passes.
  assert.equal(parseExperiment({ name: 'x', recipe: 'r', options: nested(10, 'object') }, recipes).name, 'x');
});
