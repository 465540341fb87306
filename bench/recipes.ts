// npm run bench:recipes — absolute-zero against its control, rlvr-fixed, from ONE shared warm start.
//
// 1. The warm start runs once: configs/absolute-zero.yaml's supervised stage (warmStart.from: sft,
//    steps as shipped or --warm-steps), in an experiment whose self-play budget ends at once
//    (budget.maxMinutes counts self-play time only). Its stage checkpoint — the one the stage
//    saved when it finished (<SPAR_DATA_DIR>/<id>/warmstart/checkpoints/step-N/, metadata
//    {stage: warmstart, done: true}) — holds exactly the supervised weights, whatever self-play
//    did after it.
// 2. For each seed 1..N: absolute-zero, then rlvr-fixed, each with warmStart {from: checkpoint,
//    path: that folder}, the experiment `seed` set to the bench seed and budget.maxMinutes to
//    --minutes; everything else as shipped. One run at a time, each through the same path as
//    `npm start` (five services, local Redis).
//
// Prints one JSON line on stdout (progress on stderr), then exits:
// {"bench":"recipes","budgetMinutes":…,"seeds":…,"warm":{deduction,abduction,induction},
//  "azr":{…},"rlvr":{…},"azrOwnSolveRate":[min,max]|null,"distinctPer1000":…|null,"contaminated":0}
//   warm / azr / rlvr     held-out accuracy per task type: the warm stage's final evaluation, and each
//                         recipe's final self-play evaluation (mean over seeds)
//   azrOwnSolveRate       [min, max] of judgeStats.ownSolveRate over absolute-zero's evaluation windows
//                         ending after self-play step 300, all seeds
//   distinctPer1000       absolute-zero's final curriculum.distinctPer1000, mean over seeds
//   contaminated          sum of curriculum.contaminated over every run, the warm start's included
// Flags: --seeds N (1), --first-seed K (1: seeds K..K+N-1), --arms azr,rlvr (both), --minutes M (the
// configs' budget.maxMinutes), --warm-steps S (the config's warmStart.steps), --warm-from DIR (reuse
// the warm-start run folder an earlier --keep left instead of running the stage again), --keep (keep
// the run folders), --out FILE (the line plus each run's record, copied to FILE's folder as
// <FILE name>-records/<run>.json).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfigText, type ExperimentRecord } from '@spar/core';
import { listCheckpoints, MANIFEST_FILE } from '@spar/policy';
import { REPO_ROOT, runLocalExperiment } from '../packages/cli/src/local.ts';
import { RECORD_FILE } from '../packages/cli/src/report/index.ts';

const RECIPES = { azr: 'absolute-zero', rlvr: 'rlvr-fixed' } as const;
type Arm = keyof typeof RECIPES;
const configFile = (recipe: string) => join(REPO_ROOT, 'configs', `${recipe}.yaml`);
/** Judge-stat windows of absolute-zero's self-play evaluations ending after this step count. */
const OWN_SOLVE_AFTER = 300;

type Report = Readonly<Record<string, Readonly<Record<string, number>>>>;
type Accuracies = Record<string, number>;

interface ShippedConfig {
  budget?: { maxMinutes?: number; [k: string]: unknown };
  warmStart?: { steps?: number; [k: string]: unknown };
  [k: string]: unknown;
}

/** A run of the bench: what ran, how it ended, and its record. */
interface Run {
  readonly label: string;
  readonly arm: Arm | 'warm';
  readonly seed: number;
  readonly runDir: string;
  readonly record: ExperimentRecord;
}

class BenchError extends Error {}

/** `accuracy` per task type ('dsl-deduction' → 'deduction'). */
export function accuracies(report: Report | undefined): Accuracies {
  const out: Accuracies = {};
  for (const [suite, m] of Object.entries(report ?? {})) if (typeof m.accuracy === 'number') out[suite.replace(/^dsl-/, '')] = m.accuracy;
  return out;
}

const round = (v: number) => +v.toFixed(4);

/** Mean per key over the runs that have it. */
export function meanOf(all: readonly Accuracies[]): Accuracies {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const a of all) for (const [k, v] of Object.entries(a)) {
    const s = sums.get(k) ?? { sum: 0, n: 0 };
    sums.set(k, { sum: s.sum + v, n: s.n + 1 });
  }
  return Object.fromEntries([...sums].map(([k, { sum, n }]) => [k, round(sum / n)]));
}

/** The final self-play evaluation: the newest entry without a stage. */
function finalEval(rec: ExperimentRecord): Report | undefined {
  return rec.evaluations.filter((e) => e.stage === undefined).at(-1)?.eval ?? rec.eval;
}

/** [min, max] of ownSolveRate over the self-play windows ending after step `after`; null when none. */
export function ownSolveRange(records: readonly ExperimentRecord[], after = OWN_SOLVE_AFTER): [number, number] | null {
  const v = records.flatMap((r) => r.evaluations)
    .filter((e) => e.stage === undefined && e.step > after)
    .map((e) => e.judgeStats?.ownSolveRate)
    .filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? [round(Math.min(...v)), round(Math.max(...v))] : null;
}

function curriculumOf(run: Run): NonNullable<ExperimentRecord['curriculum']> {
  const c = run.record.curriculum;
  if (!c) throw new BenchError(`${run.label} (${run.record.id}): its record has no curriculum (is the learner older than record.curriculum?); record in ${join(run.runDir, RECORD_FILE)}`);
  return c;
}

/** An earlier bench's warm-start run (its folder kept with --keep), read from its record. */
function keptWarmStart(runDir: string, runs: Run[]): Run {
  let record: ExperimentRecord;
  try {
    record = JSON.parse(readFileSync(join(runDir, RECORD_FILE), 'utf8')) as ExperimentRecord;
  } catch (err) {
    throw new BenchError(`--warm-from ${runDir}: no readable ${RECORD_FILE} (${(err as Error).message}); name a warm-start run folder an earlier --keep left`);
  }
  const r: Run = { label: 'warm-start', arm: 'warm', seed: 0, runDir, record };
  runs.push(r);
  return r;
}

/** The warm stage's finished checkpoint: the newest under warmstart/checkpoints whose metadata says done. */
async function warmCheckpoint(run: Run): Promise<string> {
  const root = join(run.runDir, run.record.id, 'warmstart', 'checkpoints');
  const done = [];
  for (const c of await listCheckpoints(root)) {
    const meta = (JSON.parse(readFileSync(join(c.dir, MANIFEST_FILE), 'utf8')) as { metadata?: { extra?: { stage?: string; done?: boolean } } }).metadata?.extra;
    if (meta?.stage === 'warmstart' && meta.done === true) done.push(c);
  }
  const last = done.at(-1);
  if (!last) throw new BenchError(`${run.label}: no finished warm-start checkpoint under ${root}`);
  return last.dir;
}

function parseFlags() {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '1' },
      minutes: { type: 'string' },
      'warm-steps': { type: 'string' },
      'first-seed': { type: 'string', default: '1' },
      arms: { type: 'string', default: 'azr,rlvr' },
      'warm-from': { type: 'string' },
      keep: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const positive = (flag: string, v: string, int: boolean) => {
    const n = Number(v);
    if (!(n > 0) || (int && !Number.isInteger(n))) throw new BenchError(`--${flag} must be a positive ${int ? 'integer' : 'number'}, got '${v}'`);
    return n;
  };
  const shipped = Object.fromEntries(Object.entries(RECIPES).map(([arm, recipe]) => [arm, parseConfigText(readFileSync(configFile(recipe), 'utf8')) as ShippedConfig])) as Record<Arm, ShippedConfig>;
  let minutes: number;
  if (values.minutes !== undefined) minutes = positive('minutes', values.minutes, false);
  else {
    const [a, b] = [shipped.azr.budget?.maxMinutes, shipped.rlvr.budget?.maxMinutes];
    if (a === undefined || a !== b) throw new BenchError(`the configs' budget.maxMinutes differ or are missing (${a}, ${b}): pass --minutes`);
    minutes = a;
  }
  const warmSteps = values['warm-steps'] !== undefined ? positive('warm-steps', values['warm-steps'], true) : shipped.azr.warmStart?.steps;
  const arms = values.arms.split(',').map((a) => a.trim());
  for (const a of arms) if (!(a in RECIPES)) throw new BenchError(`--arms: unknown arm '${a}' (azr, rlvr)`);
  return {
    seeds: positive('seeds', values.seeds, true), firstSeed: positive('first-seed', values['first-seed'], true), arms: arms as Arm[],
    warmFrom: values['warm-from'], minutes, warmSteps, keep: values.keep, out: values.out, shipped,
  };
}

const say = (m: string) => process.stderr.write(`recipes: ${m}\n`);

async function main(): Promise<void> {
  const f = parseFlags();
  const root = mkdtempSync(join(tmpdir(), 'spar-recipes-'));
  const runs: Run[] = [];
  let interrupted = false;
  // runLocalExperiment stops the current run cleanly on Ctrl-C; the bench then starts no other.
  const onSignal = () => { interrupted = true; };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const total = 1 + f.arms.length * f.seeds;

  const run = async (label: string, arm: Run['arm'], seed: number, recipe: string, override: (c: ShippedConfig) => ShippedConfig): Promise<Run> => {
    if (interrupted) throw new BenchError(`interrupted after ${runs.length} of ${total} runs`);
    const runDir = join(root, label);
    say(`[${runs.length + 1}/${total}] ${label}: ${recipe}, run folder ${runDir}`);
    const t0 = Date.now();
    const res = await runLocalExperiment({ config: configFile(recipe), dataDir: runDir, summary: false, override: (c) => override(c as ShippedConfig) });
    if (!res.record) throw new BenchError(`${label} failed before submission (code ${res.code}); logs in ${runDir}/logs`);
    const rec = res.record;
    if (rec.state !== 'completed' && rec.state !== 'stopped') throw new BenchError(`${label} (${rec.id}) ended ${rec.state}${rec.reason ? `: ${rec.reason}` : ''}; logs in ${runDir}/logs`);
    const r: Run = { label, arm, seed, runDir, record: rec };
    curriculumOf(r); // a record without curriculum stops the bench now, not after the last run
    runs.push(r);
    say(`${label} ${rec.state} in ${Math.round((Date.now() - t0) / 1000)} s: ${JSON.stringify({
      selfPlaySteps: rec.step, warmStart: rec.warmStart && { from: rec.warmStart.from, step: rec.warmStart.step, seconds: rec.warmStart.seconds },
      accuracy: accuracies(arm === 'warm' ? rec.warmStart?.eval : finalEval(rec)), curriculum: rec.curriculum ?? null,
    })}`);
    return r;
  };

  try {
    // ---- the shared warm start: the supervised stage, then a self-play budget that ends at once
    // (or a kept one: --warm-from names an earlier bench's warm-start run folder)
    const warm = f.warmFrom
      ? keptWarmStart(resolve(f.warmFrom), runs)
      : await run('warm-start', 'warm', typeof f.shipped.azr.seed === 'number' ? f.shipped.azr.seed : 1, RECIPES.azr, (c) => ({
        ...c,
        warmStart: { ...c.warmStart, ...(f.warmSteps !== undefined ? { steps: f.warmSteps } : {}) },
        budget: { ...c.budget, maxSteps: 1, maxMinutes: 0.001 },
      }));
    if (warm.record.warmStart?.state !== 'done' || !warm.record.warmStart.eval) throw new BenchError(`warm start (${warm.record.id}) did not finish its stage: ${JSON.stringify(warm.record.warmStart ?? null)}`);
    const checkpoint = await warmCheckpoint(warm);
    say(`shared warm start: ${warm.record.warmStart.step} supervised steps in ${warm.record.warmStart.seconds} s, checkpoint ${checkpoint}`);

    // ---- self-play from it, one run at a time
    for (let seed = f.firstSeed; seed < f.firstSeed + f.seeds; seed++) {
      for (const arm of f.arms) {
        const r = await run(`${arm}-seed${seed}`, arm, seed, RECIPES[arm], (c) => ({
          ...c, seed, warmStart: { from: 'checkpoint', path: checkpoint }, budget: { ...c.budget, maxMinutes: f.minutes },
        }));
        if (r.record.warmStart?.source !== checkpoint) throw new BenchError(`${r.label} (${r.record.id}) did not start from the shared checkpoint (warmStart ${JSON.stringify(r.record.warmStart ?? null)})`);
        // The loaded weights are the stage's: their held-out evaluation (greedy, fixed set) should repeat it.
        const loaded = accuracies(r.record.warmStart.eval), stage = accuracies(warm.record.warmStart.eval);
        if (JSON.stringify(loaded) !== JSON.stringify(stage)) say(`warning: ${r.label} evaluates the loaded weights at ${JSON.stringify(loaded)}, the warm stage ended at ${JSON.stringify(stage)}`);
      }
    }

    const of = (arm: Arm) => runs.filter((r) => r.arm === arm);
    const distinct = of('azr').map((r) => curriculumOf(r).distinctPer1000).filter((x): x is number => typeof x === 'number');
    const line = {
      bench: 'recipes',
      budgetMinutes: f.minutes,
      seeds: f.seeds,
      warm: meanOf([accuracies(warm.record.warmStart.eval)]),
      azr: meanOf(of('azr').map((r) => accuracies(finalEval(r.record)))),
      rlvr: meanOf(of('rlvr').map((r) => accuracies(finalEval(r.record)))),
      azrOwnSolveRate: ownSolveRange(of('azr').map((r) => r.record)),
      distinctPer1000: distinct.length ? round(distinct.reduce((a, b) => a + b, 0) / distinct.length) : null,
      contaminated: runs.reduce((s, r) => s + curriculumOf(r).contaminated, 0),
      ...(f.firstSeed !== 1 ? { firstSeed: f.firstSeed } : {}),
    };
    console.log(JSON.stringify(line));
    if (f.out) {
      const out = resolve(f.out);
      const recDir = join(dirname(out), `${basename(out, extname(out))}-records`);
      mkdirSync(recDir, { recursive: true });
      const listed = runs.map((r) => {
        const record = join(recDir, `${r.label}.json`);
        copyFileSync(join(r.runDir, RECORD_FILE), record);
        return { label: r.label, recipe: r.arm === 'warm' ? RECIPES.azr : RECIPES[r.arm], seed: r.seed, id: r.record.id, record, ...(f.keep ? { runDir: r.runDir } : {}) };
      });
      writeFileSync(out, `${JSON.stringify({ ...line, warmStart: { steps: warm.record.warmStart.step, seconds: warm.record.warmStart.seconds, checkpoint }, runs: listed }, null, 2)}\n`);
      say(`wrote ${out} (records in ${recDir})`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (f.keep) say(`run folders kept in ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  if (!(err instanceof BenchError)) throw err;
  process.stderr.write(`recipes: ${err.message}\n`);
  process.exitCode = 1;
}
