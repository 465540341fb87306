import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The controller validates configs and serves the API; it must not load onnxruntime-node (a native
// addon an image without the ONNX runtime cannot load). A fresh node process records every native
// addon loaded (process.dlopen) while it imports the given modules.
const CONTROLLER = fileURLToPath(new URL('..', import.meta.url));

function nativeAddonsLoadedBy(...modules: string[]): string[] {
  const code = `
    const loaded = [];
    const dlopen = process.dlopen;
    process.dlopen = function (module, filename, ...rest) { loaded.push(filename); return dlopen.call(this, module, filename, ...rest); };
    for (const m of ${JSON.stringify(modules)}) await import(m);
    console.log(JSON.stringify(loaded));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: CONTROLLER, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

test('the controller (its app, its main module with recipes and service-kit) and @spar/core load no onnxruntime', () => {
  const loaded = nativeAddonsLoadedBy(
    new URL('../src/app.ts', import.meta.url).href,
    new URL('../src/index.ts', import.meta.url).href,
    '@spar/core',
  );
  assert.deepEqual(loaded.filter((p) => p.includes('onnxruntime')), [], loaded.join('\n'));
});

test('positive control: importing the root of @spar/policy loads onnxruntime', () => {
  const loaded = nativeAddonsLoadedBy('@spar/policy');
  assert.ok(loaded.some((p) => p.includes('onnxruntime')), `no onnxruntime among: ${loaded.join(', ')}`);
});
