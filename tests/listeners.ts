import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A TCP socket a process listens on. */
export interface Listener {
  readonly address: string;
  readonly port: number;
}

/** `0100007F` (little-endian IPv4) or 32 hex digits (IPv6 as four little-endian words) → text (IPv4-mapped as IPv4). */
function decodeAddress(hex: string): string {
  const bytes = (h: string) => h.match(/../g)!.map((b) => parseInt(b, 16)).reverse();
  if (hex.length === 8) return bytes(hex).join('.');
  const words = hex.match(/.{8}/g)!.flatMap((w) => bytes(w));
  if (words.slice(0, 10).every((b) => b === 0) && words[10] === 255 && words[11] === 255) return words.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((words[i]! << 8) | words[i + 1]!).toString(16));
  return groups.join(':'); // uncompressed: 0:0:0:0:0:0:0:1 is ::1
}

/**
 * The TCP sockets `pid` holds in the LISTEN state, read from /proc (Linux): its socket inodes
 * matched against its network namespace's tcp and tcp6 tables. Sends nothing anywhere.
 */
export function listeningSockets(pid: number): Listener[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch { /* closed meanwhile */ }
  }
  const out: Listener[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try { text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
      const [addr, port] = f[1]!.split(':') as [string, string];
      out.push({ address: decodeAddress(addr), port: parseInt(port, 16) });
    }
  }
  return out;
}

/** Whether a listener accepts connections only from this machine. */
export const isLoopback = (l: Listener) => l.address.startsWith('127.') || l.address === '0:0:0:0:0:0:0:1';
