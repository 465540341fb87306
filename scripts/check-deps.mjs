#!/usr/bin/env node
// Manifests tell the truth: every workspace package declares exactly the packages its own files
// import, and the root's tests/, scripts/ and bench/ use only the root's declarations or workspace
// packages. Reports
//   (a) a package imported but not declared (files under test/ or bench/ may use the package's or
//       the root's devDependencies; a type-only import may be a devDependency),
//   (b) a `dependencies` entry nothing in the package imports (or only its tests/benches do),
//   (c) a workspace dependency whose version is not that package's version.
// Exit 1 with the list, 0 with a one-line summary.
// Usage: node scripts/check-deps.mjs [root-dir]      (default: this repository)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importSpecifiers } from './lib/import-specifiers.mjs';

// Dependencies a package needs at run time without importing them. Keep this short; say why.
const NEEDED_WITHOUT_IMPORT = {
  // From sources each service starts as `node --import tsx services/<name>/src/bin.ts`
  // (@spar/cli's supervisor, the test harness): the TypeScript loader is named on the command
  // line. (The image runs the compiled .js and never loads it.)
  tsx: ['@spar/controller', '@spar/judge', '@spar/learner', '@spar/proposer', '@spar/solver'],
};

const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;
const DEV_DIRS = new Set(['test', 'bench']);
const ROOT_DIRS = ['tests', 'scripts', 'bench'];
const BUILTIN = new Set(builtinModules);

const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const names = (...objs) => new Set(objs.flatMap((o) => Object.keys(o ?? {})));

/** The package a bare specifier names, or null for relative paths, URLs, `#imports` and builtins. */
function packageOf(spec) {
  if (/^[./#]/.test(spec) || /^[a-z][a-z0-9+.-]*:/i.test(spec)) return null;
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  if (BUILTIN.has(spec) || BUILTIN.has(name)) return null;
  return name;
}

/** Source files under dir (recursive), skipping node_modules, dot folders and nested packages. */
function sourceFiles(dir, top = dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir).sort()) {
    if (e === 'node_modules' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      if (existsSync(join(p, 'package.json'))) continue;
      out.push(...sourceFiles(p, top));
    } else if (SOURCE.test(e)) out.push(p);
  }
  return out;
}

/** Workspace folders from the root's `workspaces` (exact folders and `folder/*`). */
function workspaceDirs(rootPkg) {
  const patterns = Array.isArray(rootPkg.workspaces) ? rootPkg.workspaces : rootPkg.workspaces?.packages ?? [];
  const dirs = [];
  for (const pat of patterns) {
    if (pat.endsWith('/*')) {
      const base = join(root, pat.slice(0, -2));
      if (!existsSync(base)) continue;
      for (const e of readdirSync(base).sort()) if (existsSync(join(base, e, 'package.json'))) dirs.push(join(base, e));
    } else if (existsSync(join(root, pat, 'package.json'))) dirs.push(join(root, pat));
  }
  return dirs;
}

/** Every import of the files: [{ name, typeOnly, file (relative to dir), dev }]. */
function importsIn(dir, files, isDev) {
  const out = [];
  for (const f of files) {
    const rel = relative(dir, f);
    for (const { specifier, typeOnly } of importSpecifiers(readFileSync(f, 'utf8'))) {
      const name = packageOf(specifier);
      if (name) out.push({ name, typeOnly, file: rel, dev: isDev(rel) });
    }
  }
  return out;
}

const rootPkg = readJson(join(root, 'package.json'));
const rootDev = names(rootPkg.devDependencies);
const workspaces = workspaceDirs(rootPkg).map((dir) => ({ dir, pkg: readJson(join(dir, 'package.json')) }));
const versionOf = new Map(workspaces.map((w) => [w.pkg.name, w.pkg.version]));

const problems = [];
let fileCount = 0;
let importCount = 0;
const where = (list) => [...new Set(list.map((i) => i.file))].slice(0, 3).join(', ') + (new Set(list.map((i) => i.file)).size > 3 ? ', …' : '');
/** Group imports by name: Map<name, import[]>. */
const byName = (imports) => {
  const m = new Map();
  for (const i of imports) m.set(i.name, [...(m.get(i.name) ?? []), i]);
  return m;
};

for (const { dir, pkg } of workspaces) {
  const label = pkg.name ?? relative(root, dir);
  const files = sourceFiles(dir);
  const imports = importsIn(dir, files, (rel) => DEV_DIRS.has(rel.split(/[\\/]/)[0]));
  fileCount += files.length;
  importCount += imports.length;
  const runtime = names(pkg.dependencies, pkg.peerDependencies, pkg.optionalDependencies);
  const dev = names(pkg.devDependencies);
  const deps = names(pkg.dependencies);

  // (a) imported but not declared where it may come from.
  for (const [name, list] of byName(imports.filter((i) => i.name !== pkg.name))) {
    const bad = list.filter((i) => !(runtime.has(name) || ((i.dev || i.typeOnly) && dev.has(name)) || (i.dev && rootDev.has(name))));
    if (bad.length === 0) continue;
    const because = dev.has(name) ? 'declares it only in devDependencies'
      : rootDev.has(name) ? 'only the root declares it (devDependencies, for test/ and bench/ files)'
      : 'does not declare it';
    problems.push(`${label}: imports ${name} (${where(bad)}) but ${because}`);
  }

  // (b) declared in dependencies but not imported (or imported only by tests/benches).
  const used = byName(imports);
  for (const name of deps) {
    const list = used.get(name) ?? [];
    if (list.some((i) => !i.dev)) continue;
    if (NEEDED_WITHOUT_IMPORT[name]?.includes(pkg.name)) continue;
    problems.push(list.length
      ? `${label}: declares ${name} in dependencies but only test/bench files import it (${where(list)}): move it to devDependencies`
      : `${label}: declares ${name} in dependencies but never imports it`);
  }
}

// An allowlist entry for a package that no longer declares the dependency is stale.
for (const [name, pkgs] of Object.entries(NEEDED_WITHOUT_IMPORT)) {
  for (const w of workspaces) {
    if (pkgs.includes(w.pkg.name) && !names(w.pkg.dependencies).has(name)) {
      problems.push(`${w.pkg.name}: listed in check-deps' NEEDED_WITHOUT_IMPORT for ${name} but does not declare it; drop the entry`);
    }
  }
}

// (c) workspace dependencies at the workspace package's own version.
for (const { pkg, label } of [...workspaces.map((w) => ({ pkg: w.pkg, label: w.pkg.name })), { pkg: rootPkg, label: 'root package.json' }]) {
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      if (versionOf.has(name) && range !== versionOf.get(name)) {
        problems.push(`${label}: ${field} has ${name}@${range}, but ${name} is version ${versionOf.get(name)}`);
      }
    }
  }
}

// Root tests/, scripts/, bench/: the root's own declarations or workspace packages.
const rootAllowed = names(rootPkg.dependencies, rootPkg.devDependencies, rootPkg.optionalDependencies, rootPkg.peerDependencies, Object.fromEntries(versionOf));
for (const top of ROOT_DIRS) {
  const files = sourceFiles(join(root, top));
  const imports = importsIn(root, files, () => true);
  fileCount += files.length;
  importCount += imports.length;
  for (const [name, list] of byName(imports)) {
    if (!rootAllowed.has(name)) problems.push(`root: ${top}/ imports ${name} (${where(list)}), which the root package.json does not declare`);
  }
}

if (problems.length) {
  console.error(`check-deps: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${root}`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`check-deps: ok — ${workspaces.length} workspace packages and the root, ${fileCount} files, ${importCount} package imports: every import declared, every dependency used, workspace versions match`);
