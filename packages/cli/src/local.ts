import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigText, TERMINAL_STATES, type ExperimentRecord } from '@spar/core';
import { allocatePorts, RedisServer, stackEnv, Supervisor, type ServiceName } from './supervise/index.ts';
import { Redis } from 'ioredis';
import { apiTokenFromEnv, ControllerClient } from './client.ts';
import { budgetOf, progressLine, StatusLine } from './progress.ts';
import { RECORD_FILE } from './report/index.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
/** The judge stats of the record's newest self-play evaluation window. */
function lastWindow(rec: ExperimentRecord): Record<string, number> | undefined {
  return rec.evaluations.filter((e) => e.stage !== 'warmstart').at(-1)?.judgeStats;
}

export const DEFAULT_CONFIG = join(REPO_ROOT, 'configs', 'tictactoe.yaml');

export interface LocalOptions {
  readonly config?: string;
  readonly maxSteps?: number;
  readonly dataDir?: string;
  /** Changes applied to the parsed config before submission (e.g. learner.maxStaleness for a side-by-side run). */
  readonly override?: (cfg: Record<string, unknown>) => Record<string, unknown>;
  /** Stop the experiment (clean stop: final evaluation, checkpoint, export) once this returns true. */
  readonly stopWhen?: (r: ExperimentRecord) => boolean;
  /** Print the one-line JSON summary on stdout (default true). */
  readonly summary?: boolean;
}

export interface LocalResult {
  readonly code: number;
  /** The experiment record at the end (absent when the run failed before submission). */
  readonly record?: ExperimentRecord;
  /** When the controller accepted the submission (ms since the epoch). */
  readonly submittedAt?: number;
  readonly runDir: string;
}

/**
 * CPU priority (nice) of each service in local mode: the generators yield to the learner, which
 * is the pipeline's bottleneck on a shared machine (SPAR_LOCAL_NICE=0 turns this off).
 */
/** The parameter limit of local mode's controller when SPAR_MAX_PARAMS is unset. */
export const LOCAL_MAX_PARAMS = 1_000_000_000;

export function localNice(env = process.env): Partial<Record<ServiceName, number>> {
  const n = Number(env.SPAR_LOCAL_NICE ?? 10);
  if (!Number.isInteger(n) || n < 0 || n > 19) throw new Error(`SPAR_LOCAL_NICE must be an integer 0..19, got '${env.SPAR_LOCAL_NICE}'`);
  return n === 0 ? {} : { solver: n, proposer: n, judge: Math.ceil(n / 2) };
}

async function reachable(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** The last record seen (with its evaluation history) as <runDir>/record.json, for `spar report`. */
function saveRecord(runDir: string, rec: ExperimentRecord, say: (m: string) => void): void {
  const file = join(runDir, RECORD_FILE);
  try {
    mkdirSync(runDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(rec, null, 2)}\n`);
    say(`spar: record in ${file} (curves: npm run spar -- report ${runDir})`);
  } catch (err) {
    say(`spar: could not write ${file}: ${(err as Error).message}`);
  }
}

/**
 * Local mode: the five services as child processes on this machine, a Redis (REDIS_URL if
 * reachable, else a spawned redis-server), one experiment submitted over HTTP and watched to
 * the end. Prints a one-line JSON summary on stdout and leaves the final record in
 * <runDir>/record.json.
 */
export async function runLocal(o: LocalOptions): Promise<number> {
  return (await runLocalExperiment(o)).code;
}

/** How long local mode keeps polling a controller that does not answer before it gives up. */
const UNREACHABLE_MS = 120000;

/** runLocal, returning the final record too (benchmarks read its evaluations and metrics). */
export async function runLocalExperiment(o: LocalOptions): Promise<LocalResult> {
  const cfgPath = o.config ?? DEFAULT_CONFIG;
  let cfg = parseConfigText(readFileSync(cfgPath, 'utf8')) as { budget?: { maxSteps?: number }; name?: string };
  if (o.maxSteps !== undefined) cfg.budget = { ...(cfg.budget ?? {}), maxSteps: o.maxSteps };
  if (o.override) cfg = o.override(cfg as Record<string, unknown>) as typeof cfg;
  const nice = localNice();
  const status = new StatusLine();
  const say = (m: string) => process.stderr.write(`${m}\n`);

  let redis: RedisServer | undefined;
  let redisUrl = process.env.REDIS_URL;
  if (redisUrl && (await reachable(redisUrl))) say(`spar: using Redis at ${redisUrl}`);
  else {
    if (redisUrl) say(`spar: REDIS_URL ${redisUrl} is not reachable; starting a local redis-server`);
    // Supervised: restarted with back-off if it dies, stopped by its watchdog if this process does.
    redis = await RedisServer.start({ appendOnly: true, maxMemory: process.env.SPAR_REDIS_MAXMEMORY || '2gb', supervise: { say } });
    redisUrl = redis.url;
    say(`spar: started redis-server on ${redisUrl}`);
  }
  const runDir = resolve(o.dataDir ?? join(REPO_ROOT, 'runs', `local-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  const ports = await allocatePorts();
  const http = ports.http;
  const envs = stackEnv(redisUrl, ports, runDir);
  // One user's own machine: admit imported models up to 1e9 parameters (as deploy/compose.hf.yml
  // does) unless SPAR_MAX_PARAMS says otherwise; the 5e7 default guards a shared controller.
  envs.controller = { ...envs.controller, SPAR_MAX_PARAMS: process.env.SPAR_MAX_PARAMS || String(LOCAL_MAX_PARAMS) };
  const echo = (l: string) => { status.update(''); say(l); };
  const supervisor = new Supervisor({ root: REPO_ROOT, logDir: join(runDir, 'logs'), env: envs, nice, echo, say: echo });
  supervisor.start();
  const pids = Object.entries(supervisor.pids()).map(([n, pid]) => `${n}=${pid}`).join(' ');
  say(`spar: services started (pids ${pids}${redis ? ` redis-server=${redis.pid}` : ''}); API at http://127.0.0.1:${http}`);
  // Ctrl-C (the services and Redis are in their own process groups, so only this process gets it):
  // the first stops the experiment cleanly — final evaluation, checkpoint, export — then the
  // services in order; a second skips the wait for the experiment.
  let interrupts = 0;
  let firstAt = 0;
  const onSignal = () => {
    // One Ctrl-C can arrive twice (from the terminal, and relayed by a wrapper such as tsx or npm):
    // a second interrupt counts only well after the first.
    if (interrupts === 1 && Date.now() - firstAt < 1500) return;
    if (interrupts === 0) firstAt = Date.now();
    interrupts++;
    if (interrupts === 2) say('\nspar: interrupted again; stopping the services without waiting for the experiment');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code = 1;
  let last: ExperimentRecord | undefined;
  let submittedAt: number | undefined;
  try {
    const client = new ControllerClient(`http://127.0.0.1:${http}`, apiTokenFromEnv());
    for (let i = 0; ; i++) {
      try {
        await client.list();
        break;
      } catch (err) {
        if (i > 600) throw new Error(`controller did not come up: ${(err as Error).message}`);
        if (supervisor.failure) throw supervisor.failure;
        if (interrupts > 0) throw new Error('interrupted during start-up');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const rec = await client.submit(cfg);
    submittedAt = Date.now();
    const budget = budgetOf(rec);
    say(`spar: experiment ${rec.id} (${cfgPath}); logs and checkpoints in ${runDir}`);
    last = rec;
    let stopSent = false;
    let said = false;
    let unreachableSince: number | undefined;
    while (!TERMINAL_STATES.includes(last.state)) {
      if (interrupts >= 2) throw new Error('interrupted twice: the experiment was not stopped cleanly; rerun to resume it from its last checkpoint');
      if (supervisor.failure) throw supervisor.failure;
      if (redis?.failure) throw redis.failure;
      if (interrupts === 1 && !said) {
        said = true;
        status.update('');
        say('\nspar: interrupted; stopping the experiment (final evaluation, checkpoint, export); Ctrl-C again to skip');
      }
      try {
        if (!stopSent && (interrupts > 0 || o.stopWhen?.(last))) {
          await client.stop(rec.id);
          stopSent = true;
        }
        last = await client.get(rec.id);
        unreachableSince = undefined;
        status.update(progressLine(last, budget));
      } catch (err) {
        // The controller (or Redis) is being restarted by its supervisor: keep polling, for a while.
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince > UNREACHABLE_MS) throw new Error(`the controller has not answered for ${UNREACHABLE_MS / 1000} s (last error: ${(err as Error).message}); logs in ${join(runDir, 'logs')}`);
        status.update(`controller unreachable (${(err as Error).message}); retrying`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    status.done();
    const restarts: Record<string, number> = { ...supervisor.restarts, ...(redis?.restarts ? { 'redis-server': redis.restarts } : {}) };
    const summary = {
      experimentId: last.id, status: last.state, steps: last.step, policyVersion: last.policyVersion, eval: last.eval ?? {},
      ...(last.warmStart ? { warmStart: { from: last.warmStart.from, steps: last.warmStart.step, seconds: last.warmStart.seconds, evalBefore: last.warmStart.evalBefore ?? {}, eval: last.warmStart.eval ?? {} } } : {}),
      // With a league: the best (gated) and the latest snapshot, each with its rating; the best's held-out evaluation.
      ...(last.league?.best ? { league: { best: last.league.best, latest: last.league.latest, gates: last.league.gates.length, promoted: last.league.gates.filter((g) => g.promoted).length } } : {}),
      // Decontamination counts and, for self-play recipes, the curriculum's health over the last evaluation window.
      ...(last.curriculum ? { curriculum: { ...last.curriculum, ...(lastWindow(last) ? { lastWindow: lastWindow(last) } : {}) } } : {}),
      ...(last.reason ? { reason: last.reason } : {}), artifacts: last.artifacts, ...(Object.keys(restarts).length ? { restarts } : {}),
    };
    if (o.summary ?? true) process.stdout.write(`${JSON.stringify(summary)}\n`);
    code = last.state === 'completed' || last.state === 'stopped' ? 0 : 1;
  } catch (err) {
    status.done();
    say(`spar: ${(err as Error).message}`);
  } finally {
    status.update('');
    if (last) saveRecord(runDir, last, say);
    await supervisor.stop();
    await redis?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return { code, record: last, submittedAt, runDir };
}
