// npm run bench:time-to-target — wall-clock from submit until the held-out evaluation first meets
// the recipe's target, for the config as shipped (asynchronous: learner.maxStaleness as set) and
// synchronous (maxStaleness 0), one after the other in the same invocation, each through the same
// service path as `npm start` (five services, local Redis). A run stops once it met the target.
//
// Targets: TicTacToe: ≥ 95 % non-loss vs random and ≥ 80 % draws vs minimax (both seats, greedy);
//          Kuhn Poker: exploitability < 0.1.
// Prints one JSON line:
// {"bench":"time-to-target","asyncSeconds":…,"syncSeconds":…,"speedup":sync/async,"staleDropFraction":…,
//  "learnerStepsPerMin":…,"asyncStepsToTarget":…,"syncStepsToTarget":…, …}
// (a run that never reaches the target prints null for its seconds and steps).
// Flags: --config FILE, --max-minutes N (each run's budget), --modes async,sync, --async-staleness N
// (the async run's learner.maxStaleness instead of the config's), --keep (keep the run folders).
//
// --runs N [--first-seed S (default 1)]: N runs of the config in async mode only (each mode of
// --modes when given), run i with seed and policy.seed S+i-1. A run does not stop when it first
// meets the target: it trains on until its step is ≥ 1.5 × the step that first met it (so the
// league's best vs latest at the end means something), or its budget ends; --stop-at-target stops
// it at the target as above. Prints one JSON line per mode:
// {"bench":"time-to-target","config":…,"mode":"async","runs":N,"reached":k,"bestMeetsTarget":b,"bestHeld":h,
//  "stepsToTarget":{"min","median","max"},"secondsToTarget":{"min","median","max"},
//  "perRun":[{"seed","stepsToTarget","secondsToTarget","steps","state","latestMeetsTarget",
//             "best","latest","bestEval","bestMeetsTarget","bestMetAt","bestHeld"}, …]}
// (min/median/max over the runs that reached the target, null when none did; best and latest:
// record.league's, null without a league; bestEval: the best's held-out evaluation, taken when it
// was promoted; bestMetAt: the step of the first best that met the target; bestHeld: every best
// promoted after it met the target too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExperimentRecord } from '@spar/core';
import { DEFAULT_CONFIG, runLocalExperiment } from '../packages/cli/src/local.ts';
import { firstTargetHit, shouldStop, summariseRun, summariseRuns, targetMet, type RunSummary } from './ttt-summary.ts';

export { targetMet };

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: DEFAULT_CONFIG },
    'max-minutes': { type: 'string' },
    modes: { type: 'string' },
    'async-staleness': { type: 'string' },
    keep: { type: 'boolean', default: false },
    runs: { type: 'string' },
    'first-seed': { type: 'string' },
    'stop-at-target': { type: 'boolean', default: false },
  },
});

const intFlag = (name: string, min: number): number | undefined => {
  const raw = values[name as 'runs' | 'first-seed'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > 2 ** 31 - 1) throw new Error(`--${name} must be an integer ≥ ${min}, not '${raw}'`);
  return n;
};
const runs = intFlag('runs', 1);
const firstSeed = intFlag('first-seed', 0) ?? 1;
if (runs === undefined && values['first-seed'] !== undefined) throw new Error('--first-seed needs --runs');
const modes = (values.modes ?? (runs === undefined ? 'async,sync' : 'async')).split(',').map((x) => x.trim()).filter(Boolean);
for (const mode of modes) if (mode !== 'async' && mode !== 'sync') throw new Error(`unknown mode '${mode}' (async, sync)`);
const configName = values.config.replace(/.*\/configs\//, 'configs/');

/** The config as run in `mode`: maxStaleness 0 for sync (or --async-staleness), --max-minutes, and with a seed both seeds. */
function override(mode: string, seed?: number) {
  return (cfg: Record<string, unknown>): Record<string, unknown> => {
    const c = cfg as { learner?: Record<string, unknown>; budget?: Record<string, unknown>; policy?: Record<string, unknown> };
    const staleness = mode === 'sync' ? 0 : values['async-staleness'] !== undefined ? Number(values['async-staleness']) : undefined;
    const learner = staleness !== undefined ? { ...(c.learner ?? {}), maxStaleness: staleness } : c.learner;
    const budget = values['max-minutes'] ? { ...(c.budget ?? {}), maxMinutes: Number(values['max-minutes']) } : c.budget;
    const seeds = seed === undefined ? {} : { seed, policy: { ...(c.policy ?? {}), seed } };
    return { ...cfg, ...(learner ? { learner } : {}), ...(budget ? { budget } : {}), ...seeds };
  };
}

interface ModeResult {
  readonly mode: string;
  readonly seconds: number | null;
  readonly stepsToTarget: number | null;
  readonly steps: number;
  readonly wallSeconds: number;
  readonly stepsPerMin: number;
  readonly staleDropFraction: number;
  readonly learnerBusy: number | null;
  readonly state: string;
}

function summarise(mode: string, rec: ExperimentRecord, submittedAt: number, endedAt: number): ModeResult {
  const hit = firstTargetHit(rec.evaluations);
  const m = rec.metrics ?? {};
  const ingested = m.ingested ?? 0;
  const stale = m.droppedStale ?? 0;
  // Steps per minute of training: from the learner taking the experiment to its last evaluation.
  const started = Date.parse(rec.startedAt ?? new Date(submittedAt).toISOString());
  const lastEval = rec.evaluations.at(-1);
  const trainedMs = lastEval ? Date.parse(lastEval.at) - started : endedAt - started;
  return {
    mode,
    seconds: hit ? +((Date.parse(hit.at) - submittedAt) / 1000).toFixed(1) : null,
    stepsToTarget: hit ? hit.step : null,
    steps: rec.step,
    wallSeconds: +((endedAt - submittedAt) / 1000).toFixed(1),
    stepsPerMin: +(((lastEval?.step ?? rec.step) / Math.max(1, trainedMs)) * 60000).toFixed(1),
    staleDropFraction: +(stale / Math.max(1, stale + ingested)).toFixed(4),
    learnerBusy: m.learnerBusy === undefined ? null : +m.learnerBusy.toFixed(3),
    state: rec.state,
  };
}

if (runs !== undefined) {
  // --runs N: N seeded runs per mode, each past its target (or to it, with --stop-at-target).
  for (const mode of modes) {
    const perRun: RunSummary[] = [];
    for (let i = 1; i <= runs; i++) {
      const seed = firstSeed + i - 1;
      const dataDir = mkdtempSync(join(tmpdir(), `spar-ttt-${mode}-seed${seed}-`));
      process.stderr.write(`time-to-target: ${mode} run ${i}/${runs} (seed ${seed}) of ${values.config}\n`);
      try {
        const res = await runLocalExperiment({
          config: values.config, dataDir, summary: false, override: override(mode, seed),
          stopWhen: (r) => shouldStop(r, values['stop-at-target']),
        });
        if (!res.record || res.submittedAt === undefined) throw new Error(`${mode} run ${i} (seed ${seed}) failed before submission (code ${res.code}); logs in ${res.runDir}`);
        perRun.push(summariseRun(seed, res.record, res.submittedAt));
        process.stderr.write(`time-to-target: ${JSON.stringify(perRun.at(-1))}\n`);
      } finally {
        if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
      }
    }
    console.log(JSON.stringify(summariseRuns(configName, mode, perRun)));
  }
} else {
  await compareModes();
}

/** Without --runs: one run per mode, each stopped at its target; async vs sync side by side. */
async function compareModes(): Promise<void> {
  const results: ModeResult[] = [];
  for (const mode of modes) {
    const dataDir = mkdtempSync(join(tmpdir(), `spar-ttt-${mode}-`));
    process.stderr.write(`time-to-target: ${mode} run of ${values.config}\n`);
    try {
      const res = await runLocalExperiment({
        config: values.config, dataDir, summary: false,
        override: override(mode),
        stopWhen: (r) => shouldStop(r, true),
      });
      if (!res.record || res.submittedAt === undefined) throw new Error(`${mode} run failed before submission (code ${res.code}); logs in ${res.runDir}`);
      results.push(summarise(mode, res.record, res.submittedAt, Date.now()));
      process.stderr.write(`time-to-target: ${JSON.stringify(results.at(-1))}\n`);
    } finally {
      if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
    }
  }

  const byMode = Object.fromEntries(results.map((r) => [r.mode, r]));
  const a = byMode.async;
  const s = byMode.sync;
  console.log(JSON.stringify({
    bench: 'time-to-target',
    config: configName,
    asyncSeconds: a?.seconds ?? null,
    syncSeconds: s?.seconds ?? null,
    speedup: a?.seconds && s?.seconds ? +(s.seconds / a.seconds).toFixed(2) : null,
    staleDropFraction: a?.staleDropFraction ?? null,
    learnerStepsPerMin: a?.stepsPerMin ?? null,
    learnerBusy: a?.learnerBusy ?? null,
    asyncStepsToTarget: a?.stepsToTarget ?? null,
    syncStepsToTarget: s?.stepsToTarget ?? null,
    runs: results,
  }));
}
