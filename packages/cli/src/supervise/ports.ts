import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Ports for child services, chosen before they start and bound by them later (after up to tens of
 * seconds of start-up). A port the kernel handed out for `listen(0)` and that was closed again can
 * be handed to the next `listen(0)` anywhere on the machine in the meantime, so two stacks started
 * side by side (the test runner runs two files at once) could get the same port. Instead ports
 * come from below the kernel's ephemeral range, where neither `listen(0)` nor outgoing connections
 * land, and each is reserved across processes by a file in <tmpdir>/spar-ports named after it and
 * holding the owner's pid (created exclusively). The reservations last as long as the process and
 * are removed when it exits; those of a process killed outright are swept after STALE_MS.
 */
const DIR = join(tmpdir(), 'spar-ports');
const LOW = 20000;
const STALE_MS = 10 * 60000;
const held = new Set<number>();
let cleanupInstalled = false;

/** The first port of the kernel's ephemeral range (Linux), or undefined where it cannot be read. */
function ephemeralLow(): number | undefined {
  try {
    const lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(lo) ? lo : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Reserve `port` for this process; false when a file for it exists. A file is never taken over
 * here (two processes taking over the same stale file could both end up holding it): the caller
 * picks another port, and sweepStale() clears old files of dead processes.
 */
function reserve(port: number): boolean {
  try {
    writeFileSync(join(DIR, String(port)), String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  }
}

/** Remove reservations of processes that died without cleaning up (kill -9), once they are old. */
function sweepStale(): void {
  const now = Date.now();
  for (const name of readdirSync(DIR)) {
    const file = join(DIR, name);
    try {
      if (now - statSync(file).mtimeMs < STALE_MS) continue;
      const owner = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) continue;
      unlinkSync(file);
    } catch { /* gone meanwhile */ }
  }
}

function release(port: number): void {
  held.delete(port);
  try { unlinkSync(join(DIR, String(port))); } catch { /* already gone */ }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** What the kernel picks for listen(0): the fallback where no range below the ephemeral one exists. */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A TCP port free on 127.0.0.1 and reserved for this process's children (see above). */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  if (high === undefined || high - LOW < 1000) return kernelPort();
  mkdirSync(DIR, { recursive: true });
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    process.once('exit', () => { for (const p of [...held]) release(p); });
    sweepStale();
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOW + Math.floor(Math.random() * (high - LOW));
    if (held.has(port) || !reserve(port)) continue;
    held.add(port);
    if (await canListen(port)) return port;
    release(port); // something outside spar listens there
  }
  return kernelPort();
}
