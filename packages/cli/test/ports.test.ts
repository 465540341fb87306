import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/supervise/ports.ts';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

test('freePort: below the kernel\'s ephemeral range (where listen(0) never lands), reserved under this pid, never the same twice', async () => {
  const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
  assert.equal(new Set(ports).size, ports.length);
  for (const p of ports) {
    assert.ok(p >= 20000 && p < ephemeralLow, `${p} outside [20000, ${ephemeralLow})`);
    assert.equal(readFileSync(join(tmpdir(), 'spar-ports', String(p)), 'utf8'), String(process.pid));
  }
});

test('freePort: live processes allocating side by side get disjoint ports; a process\'s reservations go when it exits', async () => {
  // Each child allocates 300 ports, prints them and holds them until its stdin closes.
  const script = `import { freePort } from ${JSON.stringify(fileURLToPath(new URL('../src/supervise/ports.ts', import.meta.url)))};
const ps = []; for (let i = 0; i < 300; i++) ps.push(await freePort()); console.log(JSON.stringify(ps));
process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  const children = [0, 1, 2].map(() => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const lists = await Promise.all(children.map((c) => new Promise<number[]>((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (d) => { out += d; if (out.includes('\n')) resolve(JSON.parse(out) as number[]); });
    c.on('exit', (code) => reject(new Error(`exited ${code} before printing`)));
  })));
  const all = lists.flat();
  assert.equal(all.length, 900);
  assert.equal(new Set(all).size, all.length, 'no port handed to two live processes');
  await Promise.all(children.map((c) => new Promise((resolve) => { c.on('exit', resolve); c.stdin!.end(); })));
  for (const p of all) assert.equal(existsSync(join(tmpdir(), 'spar-ports', String(p))), false, `reservation of ${p} left behind`);
});
