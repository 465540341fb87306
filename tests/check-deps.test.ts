import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// scripts/check-deps.mjs against tiny fake workspaces (one clean, one with every kind of fault)
// and against this repository.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SCRIPT = join(ROOT, 'scripts', 'check-deps.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'spar-check-deps-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Files = Record<string, string | object>;
function workspace(name: string, files: Files): string {
  const dir = join(tmp, name);
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), typeof body === 'string' ? body : JSON.stringify(body, null, 2));
  }
  return dir;
}

function check(dir?: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...(dir ? [dir] : [])], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

const rootPkg = { name: 'fake', private: true, workspaces: ['packages/*'], devDependencies: { 'fast-check': '^4.0.0' } };
// Every import form the checker reads, each naming a package `a` does not declare; the names in
// the comment and the strings are not imports.
const allForms = `
import def from 'static-default';
import {
  one,
  two,
} from 'multi-line/sub/path';
import '@scope/side-effect/deep';
export { three } from 're-export';
export * from 'star-export';
const lazy = await import('dynamic-literal');
const req = require('plain-require');
import { createRequire } from 'node:module';
const where = createRequire(import.meta.url).resolve('resolved-by-path');
const direct = createRequire(import.meta.url)('create-require-call');
import { readFileSync } from 'fs';
// import ghost from 'in-a-comment';
const s = "import x from 'in-a-string'";
const re = /['"]import('in-a-regex')/;
register('registered-by-string', import.meta.url);
const u = new URL('url-argument', import.meta.url);
export const v = [def, one, two, lazy, req, where, direct, readFileSync, s, re, u];
`;

test('a workspace with undeclared imports, unused dependencies and a stale workspace version fails', () => {
  const dir = workspace('faulty', {
    'package.json': rootPkg,
    'packages/a/package.json': { name: '@fake/a', version: '1.0.0', type: 'module', dependencies: {} },
    'packages/a/src/index.ts': allForms,
    'packages/b/package.json': {
      name: '@fake/b', version: '1.0.0', type: 'module',
      dependencies: { '@fake/a': '0.9.0', 'never-imported': '^1.0.0', 'only-in-tests': '^1.0.0', 'types-lib': '^1.0.0' },
      devDependencies: { 'dev-only': '^1.0.0' },
    },
    'packages/b/src/index.ts': "import { a } from '@fake/a';\nimport type { T } from 'types-lib';\nimport { d } from 'dev-only';\nexport const b: T = [a, d];\n",
    'packages/b/test/b.test.ts': "import fc from 'fast-check';\nimport x from 'only-in-tests';\nimport y from 'test-undeclared';\nexport { fc, x, y };\n",
    'tests/root.test.ts': "import '@fake/b';\nimport fc from 'fast-check';\nimport chalk from 'chalk';\nexport { fc, chalk };\n",
  });
  const { code, out } = check(dir);
  assert.equal(code, 1, out);
  for (const name of ['static-default', 'multi-line', '@scope/side-effect', 're-export', 'star-export', 'dynamic-literal',
    'plain-require', 'resolved-by-path', 'create-require-call']) {
    assert.match(out, new RegExp(`@fake/a: imports ${name} \\(src/index.ts\\) but does not declare it`), `${name}\n${out}`);
  }
  for (const name of ['in-a-comment', 'in-a-string', 'in-a-regex', 'registered-by-string', 'url-argument', 'multi-line/sub', 'fs', 'node:module']) {
    assert.doesNotMatch(out, new RegExp(`imports ${name}[ (]`), `${name}\n${out}`);
  }
  assert.match(out, /@fake\/b: declares never-imported in dependencies but never imports it/);
  assert.match(out, /@fake\/b: declares only-in-tests in dependencies but only test\/bench files import it/);
  assert.match(out, /@fake\/b: imports dev-only \(src\/index.ts\) but declares it only in devDependencies/);
  assert.match(out, /@fake\/b: imports test-undeclared \(test\/b.test.ts\) but does not declare it/);
  assert.match(out, /@fake\/b: dependencies has @fake\/a@0.9.0, but @fake\/a is version 1.0.0/);
  assert.match(out, /root: tests\/ imports chalk/);
  // Allowed: a root devDependency in a test, a type-only import of a dependency, a workspace package from the root.
  assert.doesNotMatch(out, /fast-check|types-lib|root: tests\/ imports @fake\/b/);
  assert.match(out, /^check-deps: 15 problems/m);
});

test('a workspace whose manifests match its imports passes', () => {
  const dir = workspace('clean', {
    'package.json': rootPkg,
    'packages/a/package.json': { name: '@fake/a', version: '1.0.0', type: 'module', dependencies: { 'left-pad': '^1.0.0' } },
    'packages/a/src/index.ts': "import pad from 'left-pad/index.js';\nexport const a = pad;\n",
    'packages/b/package.json': {
      name: '@fake/b', version: '1.0.0', type: 'module', dependencies: { '@fake/a': '1.0.0' }, devDependencies: { 'types-lib': '^1.0.0' },
    },
    'packages/b/src/index.ts': "import { a } from '@fake/a';\nimport type { T } from 'types-lib';\nexport const b: T = a;\n",
    'packages/b/test/b.test.ts': "import fc from 'fast-check';\nimport { b } from '@fake/b';\nexport { fc, b };\n",
  });
  const { code, out } = check(dir);
  assert.equal(code, 0, out);
  assert.match(out, /^check-deps: ok — 2 workspace packages and the root, 3 files/);
});

test('this repository passes', () => {
  const { code, out } = check();
  assert.equal(code, 0, out);
  assert.match(out, /^check-deps: ok/);
});
