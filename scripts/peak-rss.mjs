#!/usr/bin/env node
// Runs a command and reports the peak resident memory of each process it starts, by spar service
// (from the process's command line: services/<name>/, else the executable's name). Linux only
// (/proc). Used for the memory figures of end-to-end runs, e.g.
//   node scripts/peak-rss.mjs -- npm start -- --config configs/absolute-zero-hf-lora.yaml --max-steps 3
// Prints one JSON line at the end: {"peakRssMiB": {"learner": N, ...}, "seconds": N, "exitCode": N}.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const dash = process.argv.indexOf('--');
const argv = dash >= 0 ? process.argv.slice(dash + 1) : process.argv.slice(2);
if (argv.length === 0) {
  process.stderr.write('usage: peak-rss.mjs -- COMMAND [ARGS...]\n');
  process.exit(2);
}
const t0 = Date.now();
const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
const peak = new Map(); // pid → { name, kib }

function read(path) {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}
/** pid → parent pid for every process now. */
function parents() {
  const out = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = read(`/proc/${e}/stat`);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(e), Number(fields[1]));
  }
  return out;
}
function sample() {
  const pp = parents();
  const mine = new Set([child.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of pp) if (!mine.has(pid) && mine.has(parent)) { mine.add(pid); grew = true; }
  }
  for (const pid of mine) {
    const status = read(`/proc/${pid}/status`);
    const kib = Number(/VmRSS:\s+(\d+)/.exec(status ?? '')?.[1] ?? 0);
    if (!kib) continue;
    const cmd = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ');
    const name = /services\/([a-z]+)\//.exec(cmd)?.[1] ?? (/redis-server/.test(cmd) ? 'redis' : cmd.split(' ')[0]?.split('/').at(-1) ?? '?');
    const prev = peak.get(pid);
    if (!prev || kib > prev.kib) peak.set(pid, { name, kib });
  }
}
const timer = setInterval(sample, 1000);
child.on('exit', (code) => {
  clearInterval(timer);
  const byName = {};
  for (const { name, kib } of peak.values()) byName[name] = Math.max(byName[name] ?? 0, Math.round(kib / 1024));
  process.stdout.write(`${JSON.stringify({ peakRssMiB: byName, seconds: Math.round((Date.now() - t0) / 1000), exitCode: code })}\n`);
  process.exit(code ?? 1);
});
