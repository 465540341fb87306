// Soak: the default TicTacToe config on a real stack for N minutes, sampling each service's RSS,
// Redis' used_memory and the newest checkpoint's size; prints them at warm-up and at the end and
// fails (exit 1) when any grew by 10 % or more. State that only grows shows up here.
//   npm run soak -- --minutes 30            (docs/operations.md#soak)
//   npm run soak -- --minutes 3 --config configs/kuhn.yaml
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { parseConfigText, type ExperimentRecord } from '@spar/core';
import { startStack } from '@spar/testing';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, config: { type: 'string', default: join(ROOT, 'configs', 'tictactoe.yaml') } } });
const minutes = Number(values.minutes);
if (!(minutes >= 1)) throw new Error('--minutes must be >= 1');
// Warm-up: a third of the run, so bounded windows (the judge's 5-min dedupe window, caches) have filled.
const warmupMin = minutes / 3;
const SAMPLE_MS = 5000;
const WINDOW = 6; // samples averaged at each point (30 s): RSS moves with every GC

const rssMB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
const newestCheckpointMB = (dir: string): number => {
  try {
    const exp = readdirSync(dir).find((d) => d !== 'logs');
    if (!exp) return 0;
    const ck = join(dir, exp, 'checkpoints');
    const last = readdirSync(ck).filter((d) => d.startsWith('step-')).sort().at(-1);
    return last ? statSync(join(ck, last, 'model.safetensors')).size / 2 ** 20 : 0;
  } catch {
    return 0;
  }
};

const stack = await startStack(ROOT);
const redis = new Redis(stack.redis.url);
redis.on('error', () => undefined);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
type Sample = Record<string, number>;
const samples: { t: number; s: Sample }[] = [];
let code = 1;
try {
  const cfg = parseConfigText(readFileSync(values.config, 'utf8')) as Record<string, Record<string, unknown>>;
  cfg.budget = { maxSteps: 10000000, maxMinutes: minutes + 10 };
  const res = await fetch(`${stack.baseUrl}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(cfg) });
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${await res.text()}`);
  const id = ((await res.json()) as ExperimentRecord).id;
  const t0 = Date.now();
  process.stderr.write(`soak: ${id} for ${minutes} min (warm-up ${warmupMin} min), sampling every ${SAMPLE_MS / 1000} s\n`);
  while (Date.now() - t0 < minutes * 60000) {
    const s: Sample = {};
    for (const svc of stack.services) s[svc.name] = rssMB(svc.child.pid!);
    s.redis = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]) / 2 ** 20;
    s.checkpoint = newestCheckpointMB(join(stack.dataDir, 'runs'));
    samples.push({ t: (Date.now() - t0) / 60000, s });
    const r = (await (await fetch(`${stack.baseUrl}/v1/experiments/${id}`)).json()) as ExperimentRecord;
    if (r.state !== 'running' && r.state !== 'queued') throw new Error(`experiment ended early: ${r.state} ${r.reason ?? ''}`);
    process.stderr.write(`\r${samples.at(-1)!.t.toFixed(1)} min step ${r.step} ${Object.entries(s).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(' ')} MB  `);
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
  }
  const step = ((await (await fetch(`${stack.baseUrl}/v1/experiments/${id}`)).json()) as ExperimentRecord).step;
  const at = (from: number) => {
    const i = Math.max(0, samples.findIndex((x) => x.t >= from));
    return samples.slice(i, i + WINDOW);
  };
  const warm = at(warmupMin);
  const end = samples.slice(-WINDOW);
  const figures: Record<string, { warmupMB: number; endMB: number; growth: number }> = {};
  for (const k of Object.keys(samples[0]!.s)) {
    const w = mean(warm.map((x) => x.s[k]!));
    const e = mean(end.map((x) => x.s[k]!));
    figures[k] = { warmupMB: +w.toFixed(1), endMB: +e.toFixed(1), growth: +(w > 0 ? e / w - 1 : 0).toFixed(3) };
  }
  const worst = Object.entries(figures).sort((a, b) => b[1].growth - a[1].growth)[0]!;
  const pass = worst[1].growth < 0.1;
  process.stderr.write('\n');
  process.stdout.write(`${JSON.stringify({ bench: 'soak', minutes, warmupMinute: warmupMin, steps: step, figures, worst: worst[0], pass })}\n`);
  code = pass ? 0 : 1;
} catch (err) {
  process.stderr.write(`\nsoak: ${(err as Error).message}\n`);
} finally {
  redis.disconnect();
  await stack.stop();
}
process.exit(code);
