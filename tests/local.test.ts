import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ExperimentRecord } from '@spar/core';
import { isLoopback, listeningSockets } from './listeners.ts';

// `npm start` (local mode) as a user runs it in a terminal: Ctrl-C goes to the whole foreground
// process group, and local mode must still stop cleanly; a service killed mid-run is restarted by
// local mode's supervisor and the run goes on.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'spar-local-'));
after(() => { if (process.env.SPAR_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true }); });

const config = (name: string, maxSteps: number) => {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({
    name, recipe: 'spiral-games', options: { games: ['tictactoe'] },
    policy: { layers: 1, dModel: 16, heads: 2, context: 24, seed: 5 },
    rollout: { groupSize: 4, maxNewTokens: 1, concurrency: 2, maxQueuedTasks: 4 },
    learner: { batchSize: 24, checkpointEvery: 5 }, eval: { every: 0, episodes: 10 }, budget: { maxSteps, maxMinutes: 10 },
  }));
  return path;
};

interface LocalRun {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly stdout: () => string;
  /** Resolves once every process holding its output pipes has ended, with `npm start`'s exit code. */
  readonly exited: Promise<number | null>;
  /** Pids local mode reported (services and its redis-server), from its start-up line. */
  pids(): Promise<Record<string, number>>;
  api(): Promise<string>;
}

/** `npm start -- …` as the leader of its own process group (a terminal's foreground job). */
function npmStart(args: string[], dataDir: string): LocalRun {
  const env: NodeJS.ProcessEnv = { ...process.env, SPAR_LOCAL_NICE: '0' };
  delete env.REDIS_URL;
  const child = spawn('npm', ['start', '--', ...args, '--data-dir', dataDir], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d) => { err += String(d); });
  child.stdout!.on('data', (d) => { out += String(d); });
  // npm and its shell may exit on Ctrl-C before local mode has finished stopping: what counts is
  // that every process holding the output pipes (local mode, the services, Redis) has ended.
  const closed = (s: NodeJS.ReadableStream) => new Promise<void>((r) => s.once('close', () => r()));
  const code = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const exited = Promise.all([closed(child.stdout!), closed(child.stderr!), code]).then(([, , c]) => c);
  const line = async () => {
    for (const end = Date.now() + 120000; ;) {
      const m = /services started \(pids ([^)]*)\); API at (\S+)/.exec(err);
      if (m) return m;
      assert.ok(Date.now() < end && child.exitCode === null, `local mode did not start:\n${err.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    child, exited, stderr: () => err, stdout: () => out,
    async pids() {
      const m = await line();
      return Object.fromEntries(m[1]!.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]));
    },
    async api() { return (await line())[2]!; },
  };
}

async function record(api: string): Promise<ExperimentRecord | undefined> {
  try {
    const list = (await (await fetch(`${api}/v1/experiments`)).json()) as { experiments: ExperimentRecord[] };
    return list.experiments[0];
  } catch {
    return undefined;
  }
}

async function untilStep(api: string, step: number, ms = 120000): Promise<void> {
  for (const end = Date.now() + ms; ;) {
    const r = await record(api);
    if (r && r.step >= step) return;
    assert.ok(Date.now() < end, `no step ${step} (at ${r?.step})`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Whether `pid` still runs (an exited process its parent has not reaped yet, a zombie, does not). */
const alive = (pid: number) => {
  try { process.kill(pid, 0); } catch { return false; }
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
};

test('local mode: Ctrl-C to the whole process group stops the run cleanly — final evaluation, checkpoint, export, summary, every child gone', async () => {
  const data = join(dir, 'ctrl-c');
  const run = npmStart(['--config', config('ctrl-c', 1000000)], data);
  const pids = await run.pids();
  assert.deepEqual(Object.keys(pids).sort(), ['controller', 'judge', 'learner', 'proposer', 'redis-server', 'solver']);
  await untilStep(await run.api(), 3);
  // Secure by default: everything local mode started listens on loopback only (read from /proc).
  const listening = Object.entries(pids).map(([name, pid]) => ({ name, listeners: listeningSockets(pid) }));
  for (const { name, listeners } of listening) {
    assert.ok(listeners.length > 0, `${name} listens`);
    assert.ok(listeners.every(isLoopback), `${name} listens beyond loopback: ${JSON.stringify(listeners)}`);
  }
  process.kill(-run.child.pid!, 'SIGINT'); // what a terminal does on Ctrl-C
  const code = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('timeout'), 90000))]);
  assert.notEqual(code, 'timeout', `still running 90 s after Ctrl-C:\n${run.stderr().slice(-2000)}`);
  // npm may itself take the terminal's SIGINT (exit 130, or a signal) before local mode exits 0.
  assert.ok(code === 0 || code === 130 || code === null, `exit code ${code}:\n${run.stderr().slice(-2000)}`);
  assert.match(run.stderr(), /interrupted; stopping the experiment/);
  assert.doesNotMatch(run.stderr(), /interrupted again/, 'one Ctrl-C counts once, even when a wrapper relays it');
  const summary = JSON.parse(run.stdout().trim().split('\n').at(-1)!) as { status: string; steps: number; eval: object; artifacts: { onnx: string } };
  assert.equal(summary.status, 'stopped');
  assert.ok(summary.steps >= 3);
  assert.ok(Object.keys(summary.eval).length > 0, 'final evaluation');
  assert.ok(existsSync(summary.artifacts.onnx), 'exported model');
  const exp = readdirSync(data, { withFileTypes: true }).find((d) => d.isDirectory() && d.name !== 'logs')!.name;
  assert.ok(readdirSync(join(data, exp, 'checkpoints')).some((d) => new RegExp(`^step-${String(summary.steps).padStart(9, '0')}-f\\d+$`).test(d)), 'final checkpoint, named with its claim\'s fencing token');
  const saved = JSON.parse(readFileSync(join(data, 'record.json'), 'utf8')) as ExperimentRecord;
  assert.equal(saved.id, exp);
  assert.equal(saved.state, 'stopped');
  assert.deepEqual(saved.evaluations.at(-1)?.eval, summary.eval, 'record.json holds the final evaluation');
  for (const [name, pid] of Object.entries(pids)) assert.equal(alive(pid), false, `${name} (pid ${pid}) still running`);
  const refused = run.stderr().split('\n').filter((l) => l.includes('ECONNREFUSED')).length;
  assert.ok(refused < 5, `${refused} ECONNREFUSED lines`);
});

test('local mode: a service or its redis-server killed by a signal mid-run is restarted with back-off, counted, and the run completes (exit code 0)', async () => {
  const data = join(dir, 'restart');
  const run = npmStart(['--config', config('restart', 60)], data);
  const pids = await run.pids();
  await untilStep(await run.api(), 3);
  process.kill(pids.solver!, 'SIGKILL');
  process.kill(pids.judge!, 'SIGKILL');
  await untilStep(await run.api(), 8);
  process.kill(pids['redis-server']!, 'SIGKILL');
  const code = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('timeout'), 240000))]);
  assert.equal(code, 0, `did not finish with exit code 0:\n${run.stderr().slice(-2000)}`);
  const summary = JSON.parse(run.stdout().trim().split('\n').at(-1)!) as { status: string; steps: number; restarts?: Record<string, number> };
  assert.equal(summary.status, 'completed');
  assert.equal(summary.steps, 60);
  assert.equal(summary.restarts?.judge, 1);
  assert.equal(summary.restarts?.solver, 1);
  assert.equal(summary.restarts?.['redis-server'], 1, 'the redis-server local mode started is supervised too');
  assert.match(run.stderr(), /solver exited \(signal SIGKILL\); restarting it in/);
  assert.match(run.stderr(), /redis-server exited \(code 137\); restarting it in/);
  for (const [name, pid] of Object.entries(pids)) assert.equal(alive(pid), false, `${name} (pid ${pid}) still running`);
});

test('local mode killed with kill -9: nothing it started is left running — services and redis-server end by themselves', async () => {
  const data = join(dir, 'kill-9');
  const run = npmStart(['--config', config('kill-9', 1000000)], data);
  const pids = await run.pids();
  await untilStep(await run.api(), 2);
  // The CLI process is the services' parent.
  const cli = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pids.controller)], { encoding: 'utf8' }).trim());
  assert.ok(cli > 1 && cli !== pids.controller);
  process.kill(cli, 'SIGKILL');
  for (const end = Date.now() + 90000; Object.values(pids).some(alive);) {
    assert.ok(Date.now() < end, `still running 90 s after kill -9 of local mode: ${Object.entries(pids).filter(([, p]) => alive(p)).map(([n]) => n).join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  try { process.kill(-run.child.pid!, 'SIGTERM'); } catch { /* npm already gone */ }
  await run.exited;
});
