import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { keys, parseExperiment, type ExperienceEntry, type ExperimentRecord } from '@spar/core';
import { builtinRecipes, vocabularyFor } from '@spar/recipes';
import { solverPromptIds } from '@spar/recipes/azr';
import { heldOutSet } from '@spar/recipes/dsl';
import { freePort, startStack, type Stack } from '@spar/testing';
import { experimentsApi } from './experiments-api.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const experiment = {
  name: 'e2e tictactoe',
  recipe: 'spiral-games',
  options: { games: ['tictactoe'] },
  policy: { layers: 1, dModel: 32, heads: 2, context: 32, seed: 3 },
  rollout: { groupSize: 4, maxNewTokens: 1, concurrency: 2, maxQueuedTasks: 4 },
  // KL to a magnet refreshed every 4 steps: the learner's reference policy, checkpointed with it.
  learner: { estimator: { kind: 'rae' }, loss: { klCoef: 0.2 }, referenceRefreshEvery: 4, batchSize: 24, maxStaleness: 3, checkpointEvery: 3 },
  eval: { every: 4, episodes: 20 },
  budget: { maxSteps: 8, maxMinutes: 5 },
};

let stack: Stack;
let redis: Redis;
let finished: ExperimentRecord;
let api: ReturnType<typeof experimentsApi>;

before(async () => {
  stack = await startStack(ROOT);
  redis = new Redis(stack.redis.url);
  api = experimentsApi(stack);
});
after(async () => {
  redis?.disconnect();
  await stack?.stop();
});

/** Wait for a terminal state; on timeout say where the pipeline stands (SPAR_TEST_KEEP=1 keeps the services' logs). */
async function waitFor(id: string, timeoutMs: number): Promise<ExperimentRecord> {
  try {
    return await api.finished(id, timeoutMs);
  } catch (err) {
    const c = await redis.hgetall(keys.counters(id));
    const inflight = await redis.zcard(keys.inflight(id));
    throw new Error(`${(err as Error).message}; counters ${JSON.stringify(c)}; admission tokens ${inflight}`);
  }
}

test('e2e: an experiment submitted over HTTP runs through all five services to completion', async () => {
  finished = await waitFor(await api.submit(experiment), 240000);
  assert.equal(finished.state, 'completed', `ended ${finished.state}: ${finished.reason ?? ''}`);
  assert.equal(finished.step, 8);
  assert.ok(finished.policyVersion >= 8, 'policy version advanced');
  assert.ok(finished.evaluations.length >= 2, 'periodic and final evaluations recorded');
  for (const suite of ['tictactoe-vs-random', 'tictactoe-vs-minimax']) {
    const e = finished.eval![suite]!;
    assert.ok(Math.abs(e.winRate! + e.drawRate! + e.lossRate! - 1) < 1e-9, `${suite} rates sum to 1`);
  }
  assert.ok(finished.artifacts?.onnx?.endsWith('model.onnx'));
});

test('e2e: r-zero records the judge\'s pseudo-label and true accuracy over training, next to held-out accuracy', async () => {
  const rzero = {
    name: 'e2e r-zero', recipe: 'r-zero',
    policy: { layers: 1, dModel: 32, heads: 2, context: 64, seed: 5 },
    rollout: { groupSize: 4, maxNewTokens: 8, concurrency: 2, maxQueuedTasks: 4 },
    learner: { batchSize: 16, maxStaleness: 3, checkpointEvery: 10 },
    eval: { every: 2, episodes: 10 },
    budget: { maxSteps: 4, maxMinutes: 5 },
  };
  const done = await waitFor(await api.submit(rzero), 240000);
  assert.equal(done.state, 'completed', `ended ${done.state}: ${done.reason ?? ''}`);
  const windows = done.evaluations.filter((e) => e.judgeStats);
  assert.ok(windows.length >= 2, `judge stats in ${windows.length} evaluations`);
  for (const w of windows) {
    for (const k of ['pseudoLabelAccuracy', 'trueAccuracy']) {
      const v = w.judgeStats![k]!;
      assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `${k} = ${v} at step ${w.step}`);
    }
    assert.ok(Number.isFinite(w.eval.arith!.accuracy!), 'held-out arithmetic accuracy alongside');
  }
});

test('e2e: absolute-zero proposals whose task is invalid reach the learner with −1', async () => {
  // A prompt budget of 8 tokens makes almost every proposed deduction task invalid (size).
  const azr = {
    name: 'e2e azr invalid', recipe: 'absolute-zero',
    options: { taskTypes: ['deduction'], maxPromptTokens: 8 },
    policy: { layers: 1, dModel: 32, heads: 2, context: 64, seed: 9 },
    rollout: { groupSize: 2, maxNewTokens: 24, concurrency: 2, maxQueuedTasks: 4 },
    learner: { batchSize: 4, maxStaleness: 1000, checkpointEvery: 100 },
    eval: { every: 0, episodes: 3 },
    budget: { maxSteps: 1000, maxMinutes: 5 },
  };
  const id = await api.submit(azr);
  let invalid: ExperienceEntry['trajectories'][number] | undefined;
  for (let i = 0; i < 240 && !invalid; i++) {
    const stream = (await redis.xrange(keys.experience(id), '-', '+')) as [string, string[]][];
    for (const [, f] of stream) {
      const e = JSON.parse(f[f.indexOf('d') + 1]!) as ExperienceEntry;
      invalid ??= e.trajectories.find((t) => t.group.endsWith('/proposer/invalid'));
    }
    if (!invalid) await new Promise((r) => setTimeout(r, 250));
  }
  await fetch(`${stack.baseUrl}/v1/experiments/${id}/stop`, { method: 'POST' });
  assert.ok(invalid, 'an invalid proposal was judged and appended');
  assert.equal(invalid.reward, -1);
  assert.equal(invalid.sample.role, 'proposer');
  assert.equal(invalid.segment, 'deduction/proposer');
  // The judge attached the draft grammar's allowed sets it recomputed: one per response token, each holding that token.
  const response = invalid.sample.tokens.slice(invalid.sample.promptLength);
  assert.equal(invalid.sample.allowed?.length, response.length);
  assert.ok(invalid.sample.allowed!.every((a, j) => Array.isArray(a) && a.includes(response[j]!)));
  const done = await waitFor(id, 120000);
  assert.ok(['stopped', 'completed'].includes(done.state), `ended ${done.state}: ${done.reason ?? ''}`);
});

/**
 * Run an experiment to its end, collecting every experience-stream entry on the way (the final
 * checkpoint trims the stream, so it is read while the run goes).
 */
async function runCollecting(config: object): Promise<{ done: ExperimentRecord; all: ExperienceEntry[] }> {
  const id = await api.submit(config);
  const seen = new Map<string, ExperienceEntry>();
  let stop = false;
  const reader = (async () => {
    let from = '-';
    while (!stop) {
      const stream = (await redis.xrange(keys.experience(id), from, '+')) as [string, string[]][];
      for (const [eid, f] of stream) seen.set(eid, JSON.parse(f[f.indexOf('d') + 1]!) as ExperienceEntry);
      if (stream.length) from = `(${stream.at(-1)![0]}`;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    return { done: await waitFor(id, 240000), all: [...seen.values()] };
  } finally {
    stop = true;
    await reader;
  }
}

test('e2e: decontamination — held-out generator draws are left out and counted; none reaches a judge or the learner', async () => {
  // Difficulty 1 only and 200 held-out tasks per cell: the generator hits held-out prompts often.
  const rlvr = {
    name: 'e2e rlvr held-out', recipe: 'rlvr-fixed', options: { taskTypes: ['deduction'], difficulties: [1] },
    policy: { layers: 1, dModel: 32, heads: 2, context: 128, seed: 4 },
    rollout: { groupSize: 2, maxNewTokens: 24, concurrency: 2, maxQueuedTasks: 8 },
    learner: { batchSize: 16, maxStaleness: 1000, checkpointEvery: 1000 },
    eval: { every: 0, episodes: 600, seed: 11 },
    budget: { maxSteps: 12, maxMinutes: 5 },
  };
  const { done, all } = await runCollecting(rlvr);
  assert.equal(done.state, 'completed', `ended ${done.state}: ${done.reason ?? ''}`);
  assert.ok((done.curriculum?.excluded.generator ?? 0) > 0, `exclusions: ${JSON.stringify(done.curriculum)}`);
  assert.equal(done.curriculum?.contaminated, 0);
  // Independently: no judged solver prompt is a held-out prompt (the eval's set, rendered as the solver sees it).
  const registry = builtinRecipes();
  const config = parseExperiment(rlvr, registry);
  const vocab = vocabularyFor(registry.get('rlvr-fixed'), config);
  const held = new Set(heldOutSet(11, 200).map((t) => solverPromptIds(vocab, t).join(',')));
  const judged = all.flatMap((e) => e.trajectories);
  assert.ok(judged.length >= 12 * 16, `${judged.length} trajectories seen`);
  for (const t of judged) assert.ok(!held.has(t.sample.tokens.slice(0, t.sample.promptLength).join(',')), 'a held-out prompt was trained on');
  const text = await (await fetch(`http://127.0.0.1:${stack.ports.metrics.proposer}/metrics`)).text();
  assert.match(text, /^spar_tasks_excluded_total\{[^}]*source="generator"[^}]*\} [1-9]/m);
});

test('e2e: absolute-zero — a pinned seed buffer, copies trained with the penalty, solver replay, curriculum stats as rates', async () => {
  const azr = {
    name: 'e2e azr curriculum', recipe: 'absolute-zero',
    // Two-token programs: the untrained proposer repeats itself and its references, so copies come quickly.
    options: { taskTypes: ['deduction', 'abduction'], seedTasks: 8, maxProgramTokens: 2, replayShare: 0.5 },
    policy: { layers: 1, dModel: 32, heads: 2, context: 128, seed: 5 },
    rollout: { groupSize: 2, maxNewTokens: 24, concurrency: 2, maxQueuedTasks: 8 },
    learner: { estimator: { kind: 'trr++', decay: 0.9 }, batchSize: 16, maxStaleness: 1000, checkpointEvery: 1000 },
    eval: { every: 3, episodes: 6 },
    budget: { maxSteps: 9, maxMinutes: 5 },
  };
  const { done, all } = await runCollecting(azr);
  assert.equal(done.state, 'completed', `ended ${done.state}: ${done.reason ?? ''}`);
  assert.equal(await redis.zcard(keys.taskSeed(done.id)), 16, 'seed tasks pinned in the buffer');
  const copies = all.flatMap((e) => e.trajectories).filter((t) => /\/proposer\/copy-/.test(t.group));
  assert.ok(copies.length > 0, `no copy was trained; proposals ${JSON.stringify(done.curriculum?.proposals)}`);
  for (const c of copies) assert.equal(c.reward, -1);
  assert.ok(all.some((e) => e.stats?.replaySolveRate !== undefined), 'replayed buffer tasks were solved and judged');
  const stats = done.evaluations.at(-1)!.judgeStats!;
  for (const k of ['ownSolveRate', 'invalidProposal', 'copyProposal', 'proposerNonZeroAdvantage', 'distinctPer1000']) assert.ok(typeof stats[k] === 'number', `judgeStats lacks ${k}: ${JSON.stringify(stats)}`);
  assert.ok(stats.invalidProposal! < 1 && stats.copyProposal! > 0 && stats.copyProposal! < 1, 'invalid/copy are rates over every proposal');
  assert.equal(done.curriculum?.contaminated, 0);
});

test('e2e: every trajectory the judge appended was ingested (or dropped) exactly once, or is still unread', async () => {
  assert.ok(finished, 'needs the completed run');
  // Read counters, the stream and the dedupe set atomically: the services are still running.
  const [[, c], [, stream], [, groups]] = (await redis.multi()
    .hgetall(keys.counters(finished.id)).xrange(keys.experience(finished.id), '-', '+').zcard(keys.appended(finished.id))
    .exec()) as [[null, Record<string, string>], [null, [string, string[]][]], [null, number]];
  const appended = Number(c.appended_trajectories);
  const ingested = Number(c.ingested_trajectories);
  const dropped = Number(c.dropped_stale) + Number(c.dropped_duplicate) + Number(c.dropped_invalid) + Number(c.dropped_frozen ?? 0);
  const id = (x: string) => x.split('-').map(Number) as [number, number];
  const [cms, cseq] = id(c.learner_cursor!);
  // Entries after the learner's cursor were never read (produced after the last step).
  const rest = stream.filter(([eid]) => { const [ms, seq] = id(eid); return ms > cms || (ms === cms && seq > cseq); });
  const unread = rest.reduce((s, [, f]) => s + (JSON.parse(f[f.indexOf('d') + 1]!) as ExperienceEntry).trajectories.length, 0);
  assert.ok(ingested > 0);
  assert.equal(Number(c.dropped_duplicate), 0, 'no trajectory reached the learner twice');
  assert.equal(appended, ingested + dropped + unread, `appended ${appended} = ingested ${ingested} + dropped ${dropped} + unread ${unread}`);
  assert.equal(Number(c.appended_groups), groups, 'one stream entry per distinct group');
});

test('e2e: every service exposes its metrics', async () => {
  const expect: Record<string, string> = {
    controller: 'spar_http_requests_total', judge: 'spar_trajectories_appended_total', learner: 'spar_learner_steps_total',
    solver: 'spar_rollouts_total', proposer: 'spar_tasks_proposed_total',
  };
  for (const [svc, metric] of Object.entries(expect)) {
    const port = stack.ports.metrics[svc as keyof typeof stack.ports.metrics];
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(text, new RegExp(`^${metric}`, 'm'), `${svc} /metrics lacks ${metric}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  }
  // The solver's generation throughput: every token its copies generated, counted.
  const solver = await (await fetch(`http://127.0.0.1:${stack.ports.metrics.solver}/metrics`)).text();
  const tokens = [...solver.matchAll(/^spar_generated_tokens_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  assert.ok(tokens > 0, 'spar_generated_tokens_total counts the solver\'s tokens');
});

test('e2e: a real Prometheus scrapes every service and answers queries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spar-prom-'));
  const port = await freePort();
  const targets = Object.values(stack.ports.metrics).map((p) => `'127.0.0.1:${p}'`).join(', ');
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: spar\n    static_configs:\n      - targets: [${targets}]\n`);
  const prom: ChildProcess = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const exited = new Promise((r) => prom.once('exit', r));
  try {
    const q = async (expr: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return ((await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    };
    let up: Awaited<ReturnType<typeof q>> = [];
    for (let i = 0; i < 60; i++) {
      try {
        up = await q('up == 1');
        if (up.length === 5) break;
      } catch { /* not ready */ }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(up.length, 5, `targets up: ${JSON.stringify(up.map((u) => u.metric.instance))}`);
    const steps = await q('sum(spar_learner_steps_total)');
    assert.ok(Number(steps[0]?.value[1]) >= 8, 'learner steps visible in Prometheus');
    const services = await q('count by (service_name) (spar_process_process_cpu_seconds_total)');
    assert.equal(services.length, 5);
  } finally {
    prom.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
