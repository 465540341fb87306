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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExperimentRecord } from '@spar/core';
import { DEFAULT_CONFIG, runLocalExperiment } from '../packages/cli/src/local.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: DEFAULT_CONFIG },
    'max-minutes': { type: 'string' },
    modes: { type: 'string', default: 'async,sync' },
    'async-staleness': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

type Report = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Whether an evaluation report meets the target of the suites it holds; undefined when no target is known. */
export function targetMet(report: Report): boolean | undefined {
  const rnd = report['tictactoe-vs-random'];
  const mm = report['tictactoe-vs-minimax'];
  if (rnd && mm) return (rnd.winRate ?? 0) + (rnd.drawRate ?? 0) >= 0.95 && (mm.drawRate ?? 0) >= 0.8;
  const kuhn = report.kuhn;
  if (kuhn?.exploitability !== undefined) return kuhn.exploitability < 0.1;
  return undefined;
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
  const hit = rec.evaluations.find((e) => targetMet(e.eval) === true);
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

const results: ModeResult[] = [];
for (const mode of values.modes.split(',').map((x) => x.trim()).filter(Boolean)) {
  if (mode !== 'async' && mode !== 'sync') throw new Error(`unknown mode '${mode}' (async, sync)`);
  const dataDir = mkdtempSync(join(tmpdir(), `spar-ttt-${mode}-`));
  process.stderr.write(`time-to-target: ${mode} run of ${values.config}\n`);
  try {
    const res = await runLocalExperiment({
      config: values.config, dataDir, summary: false,
      override: (cfg) => {
        const c = cfg as { learner?: Record<string, unknown>; budget?: Record<string, unknown> };
        const staleness = mode === 'sync' ? 0 : values['async-staleness'] !== undefined ? Number(values['async-staleness']) : undefined;
        const learner = staleness !== undefined ? { ...(c.learner ?? {}), maxStaleness: staleness } : c.learner;
        const budget = values['max-minutes'] ? { ...(c.budget ?? {}), maxMinutes: Number(values['max-minutes']) } : c.budget;
        return { ...cfg, ...(learner ? { learner } : {}), ...(budget ? { budget } : {}) };
      },
      stopWhen: (r) => r.evaluations.some((e) => targetMet(e.eval) === true),
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
  config: values.config.replace(/.*\/configs\//, 'configs/'),
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
