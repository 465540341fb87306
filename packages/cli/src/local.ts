import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigText, TERMINAL_STATES } from '@spar/core';
import { allocatePorts, RedisServer, SERVICES, stackEnv, startService, stopServices, type RunningService } from '@spar/testing';
import { Redis } from 'ioredis';
import { ControllerClient } from './client.ts';
import { progressLine, StatusLine } from './progress.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const DEFAULT_CONFIG = join(REPO_ROOT, 'configs', 'tictactoe.yaml');

export interface LocalOptions {
  readonly config?: string;
  readonly maxSteps?: number;
  readonly dataDir?: string;
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

/**
 * Local mode: the five services as child processes on this machine, a Redis (REDIS_URL if
 * reachable, else a spawned redis-server), one experiment submitted over HTTP and watched to
 * the end. Prints a one-line JSON summary on stdout.
 */
export async function runLocal(o: LocalOptions): Promise<number> {
  const cfgPath = o.config ?? DEFAULT_CONFIG;
  const cfg = parseConfigText(readFileSync(cfgPath, 'utf8')) as { budget?: { maxSteps?: number }; name?: string };
  if (o.maxSteps !== undefined) cfg.budget = { ...(cfg.budget ?? {}), maxSteps: o.maxSteps };
  const status = new StatusLine();
  const say = (m: string) => process.stderr.write(`${m}\n`);

  let redis: RedisServer | undefined;
  let redisUrl = process.env.REDIS_URL;
  if (redisUrl && (await reachable(redisUrl))) say(`spar: using Redis at ${redisUrl}`);
  else {
    if (redisUrl) say(`spar: REDIS_URL ${redisUrl} is not reachable; starting a local redis-server`);
    redis = await RedisServer.start({ appendOnly: true });
    redisUrl = redis.url;
    say(`spar: started redis-server on ${redisUrl}`);
  }
  const runDir = resolve(o.dataDir ?? join(REPO_ROOT, 'runs', `local-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  const ports = await allocatePorts();
  const http = ports.http;
  const envs = stackEnv(redisUrl, ports, runDir);
  const services: RunningService[] = SERVICES.map((name) => startService(REPO_ROOT, name, envs[name], join(runDir, 'logs'), (l) => { status.update(''); say(l); }));
  let interrupted = false;
  const onSignal = () => { interrupted = true; };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let code = 1;
  try {
    const client = new ControllerClient(`http://127.0.0.1:${http}`, process.env.SPAR_API_TOKEN);
    for (let i = 0; ; i++) {
      try {
        await client.list();
        break;
      } catch (err) {
        if (i > 300) throw new Error(`controller did not come up: ${(err as Error).message}`);
        if (services.some((s) => s.child.exitCode !== null)) throw new Error(`a service exited during start-up; see ${join(runDir, 'logs')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const rec = await client.submit(cfg);
    const maxSteps = (rec.config as { budget: { maxSteps: number } }).budget.maxSteps;
    say(`spar: experiment ${rec.id} (${cfgPath}); logs and checkpoints in ${runDir}`);
    let last = rec;
    while (!TERMINAL_STATES.includes(last.state)) {
      if (interrupted) {
        say('\nspar: interrupted; stopping the experiment');
        await client.stop(rec.id);
        interrupted = false;
      }
      const dead = services.find((s) => s.child.exitCode !== null);
      if (dead) throw new Error(`${dead.name} exited with code ${dead.child.exitCode}; see ${join(runDir, 'logs', `${dead.name}.log`)}`);
      await new Promise((r) => setTimeout(r, 500));
      last = await client.get(rec.id);
      status.update(progressLine(last, maxSteps));
    }
    status.done();
    const summary = { experimentId: last.id, status: last.state, steps: last.step, policyVersion: last.policyVersion, eval: last.eval ?? {}, ...(last.reason ? { reason: last.reason } : {}), artifacts: last.artifacts };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    code = last.state === 'completed' || last.state === 'stopped' ? 0 : 1;
  } catch (err) {
    status.done();
    say(`spar: ${(err as Error).message}`);
  } finally {
    await stopServices(services);
    await redis?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return code;
}
