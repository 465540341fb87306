#!/usr/bin/env node
// Image build step: install every dependency (dev packages too: the compile step needs them).
// A build whose context carries an installed tree in .docker-deps/node_modules (the offline test
// build, tests/compose) uses it as is; every other build runs `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';

const provided = '.docker-deps/node_modules';
if (existsSync(provided)) {
  rmSync('node_modules', { recursive: true, force: true });
  renameSync(provided, 'node_modules');
  console.log('dependencies: the tree provided in the build context');
} else {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
rmSync('.docker-deps', { recursive: true, force: true });
