#!/usr/bin/env node
// Image build step: compile the workspace's TypeScript to JavaScript and lay out the runtime tree.
//   node scripts/docker/build.mjs <out-dir> [<overlay-dir>]
// Run from the repository root after dependencies are installed (node_modules with dev packages).
// The output holds every runtime package and service as .js next to its package.json (exports
// rewritten from ./src/*.ts to ./src/*.js), proto/, configs/, the image scripts, and
// node_modules without dev-only packages (per package-lock.json) or other platforms' binaries.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';

const [out, overlay] = process.argv.slice(2);
if (!out) { console.error('usage: build.mjs <out-dir> [<overlay-dir>]'); process.exit(2); }
const root = process.cwd();
/** Workspaces that never run in a service image (test harness). */
const SKIP = new Set(['packages/testing']);

const workspaces = ['packages', 'services']
  .flatMap((d) => readdirSync(join(root, d)).map((n) => `${d}/${n}`))
  .filter((w) => existsSync(join(root, w, 'package.json')) && !SKIP.has(w));

function walk(dir, acc = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, acc); else acc.push(p);
  }
  return acc;
}

// Every import stays an import (one output file per source file); relative `.ts` specifiers
// become `.js`, so the tree keeps its layout and `new URL('./x.js', import.meta.url)` still finds
// worker entry points.
const keepImports = {
  name: 'keep-imports',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const rel = args.path.startsWith('.');
      return { path: rel ? args.path.replace(/\.ts$/, '.js') : args.path, external: true };
    });
  },
};

const entryPoints = [];
for (const w of workspaces) {
  for (const f of walk(join(root, w, 'src'))) {
    const r = relative(root, f);
    if (f.endsWith('.ts') && !f.endsWith('.d.ts')) entryPoints.push(r);
    else { mkdirSync(dirname(join(out, r)), { recursive: true }); cpSync(f, join(out, r)); }
  }
  const pkg = JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8'));
  const js = (v) => (typeof v === 'string' ? v.replace(/\.ts$/, '.js') : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, js(x)])));
  if (pkg.exports) pkg.exports = js(pkg.exports);
  if (pkg.bin) delete pkg.bin; // the CLI's bin wrapper registers tsx; in the image run src/run.js
  delete pkg.devDependencies;
  mkdirSync(join(out, w), { recursive: true });
  writeFileSync(join(out, w, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
}
await build({
  entryPoints, outdir: out, outbase: root, bundle: true, format: 'esm', platform: 'node', target: 'node20',
  sourcemap: 'linked', logLevel: 'warning', plugins: [keepImports],
});

for (const d of ['proto', 'configs']) cpSync(join(root, d), join(out, d), { recursive: true });
for (const f of ['healthcheck.mjs', 'make-tokens.mjs']) cpSync(join(root, 'scripts/docker', f), join(out, 'scripts/docker', f));
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ name: rootPkg.name, version: rootPkg.version, private: true, type: 'module', license: rootPkg.license }, null, 2)}\n`);

// node_modules: everything package-lock.json does not mark dev-only; workspace links stay
// (they point at ../../packages/<name>, which now holds the compiled package).
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
rmSync(join(out, 'node_modules'), { recursive: true, force: true });
cpSync(join(root, 'node_modules'), join(out, 'node_modules'), { recursive: true, verbatimSymlinks: true });
let dropped = 0;
for (const [path, meta] of Object.entries(lock.packages)) {
  if (!path.startsWith('node_modules/')) continue;
  const skipWorkspace = meta.link && SKIP.has(meta.resolved);
  if ((meta.dev || skipWorkspace) && existsSync(join(out, path))) { rmSync(join(out, path), { recursive: true, force: true }); dropped++; }
}
rmSync(join(out, 'node_modules/.bin'), { recursive: true, force: true });
// onnxruntime-node ships every platform's library; keep this one's.
const ortBin = join(out, 'node_modules/onnxruntime-node/bin');
if (existsSync(ortBin)) {
  for (const napi of readdirSync(ortBin)) {
    for (const os of readdirSync(join(ortBin, napi))) {
      if (os !== process.platform) { rmSync(join(ortBin, napi, os), { recursive: true }); continue; }
      for (const arch of readdirSync(join(ortBin, napi, os))) if (arch !== process.arch) rmSync(join(ortBin, napi, os, arch), { recursive: true });
    }
  }
}
// Files the runtime stage lays over its base image: this node binary when the runtime image has
// none (RUNTIME_NEEDS_NODE=true, e.g. a CUDA image), and an empty /data owned by the service user.
if (overlay) {
  mkdirSync(overlay, { recursive: true });
  mkdirSync(`${overlay}-data/data`, { recursive: true }); // copied with --chown: /data itself is the user's
  mkdirSync(`${overlay}-data/secrets`, { recursive: true }); // the spar-secrets volume's mount point: a new volume starts owned by the user
  if (process.env.RUNTIME_NEEDS_NODE === 'true') {
    mkdirSync(join(overlay, 'usr/local/bin'), { recursive: true });
    cpSync(process.execPath, join(overlay, 'usr/local/bin/node'));
  }
}
console.log(`built ${entryPoints.length} modules from ${workspaces.length} workspaces into ${out}; dropped ${dropped} dev-only packages`);
