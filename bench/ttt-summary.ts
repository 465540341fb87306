// The pure parts of bench/time-to-target.ts: the recipes' targets, when a run met its target, when
// a repeated run (--runs) may stop, and the summary of one run and of N runs. No I/O.
import type { ExperimentRecord, LeaguePolicy } from '@spar/core';

type Report = Readonly<Record<string, Readonly<Record<string, number>>>>;
type Evaluation = ExperimentRecord['evaluations'][number];

/** Whether an evaluation report meets the target of the suites it holds; undefined when no target is known. */
export function targetMet(report: Report): boolean | undefined {
  const rnd = report['tictactoe-vs-random'];
  const mm = report['tictactoe-vs-minimax'];
  if (rnd && mm) return (rnd.winRate ?? 0) + (rnd.drawRate ?? 0) >= 0.95 && (mm.drawRate ?? 0) >= 0.8;
  const kuhn = report.kuhn;
  if (kuhn?.exploitability !== undefined) return kuhn.exploitability < 0.1;
  return undefined;
}

/** The first evaluation that met the target, if any. */
export function firstTargetHit(evaluations: readonly Evaluation[]): Evaluation | undefined {
  return evaluations.find((e) => targetMet(e.eval) === true);
}

/** How far past the step that first met the target a repeated run keeps training (--runs without --stop-at-target). */
export const PAST_TARGET = 1.5;

/**
 * When a run may stop: once the target is met (atTarget), else once it is met and the record's
 * step is at least PAST_TARGET × the step at which it was first met (so best vs latest at the
 * end compares policies trained past the target). The budget ends a run either way.
 */
export function shouldStop(rec: Pick<ExperimentRecord, 'step' | 'evaluations'>, atTarget: boolean, factor = PAST_TARGET): boolean {
  const hit = firstTargetHit(rec.evaluations);
  if (!hit) return false;
  return atTarget || rec.step >= factor * hit.step;
}

/**
 * The league's best over a run (from its gates: a promoted gate's `eval` is the best's evaluation
 * from then on): the step at which the best first met the target, and whether every later best
 * met it too (the best never fell below the target once it had reached it).
 */
export function bestHistory(gates: readonly { step: number; promoted: boolean; eval?: Report }[]): { bestMetAt: number | null; bestHeld: boolean | null } {
  const promoted = gates.filter((g) => g.promoted && g.eval);
  const first = promoted.findIndex((g) => targetMet(g.eval!) === true);
  if (first < 0) return { bestMetAt: null, bestHeld: null };
  return { bestMetAt: promoted[first]!.step, bestHeld: promoted.slice(first).every((g) => targetMet(g.eval!) === true) };
}

export interface RunSummary {
  readonly seed: number;
  /** Step of the first evaluation that met the target (null: never met). */
  readonly stepsToTarget: number | null;
  /** Seconds from submission to that evaluation (null: never met). */
  readonly secondsToTarget: number | null;
  /** The record's step at the end. */
  readonly steps: number;
  readonly state: string;
  /** targetMet of the last evaluation (null: no evaluation, or a suite without a known target). */
  readonly latestMeetsTarget: boolean | null;
  readonly best: LeaguePolicy | null;
  readonly latest: LeaguePolicy | null;
  /** The best's held-out evaluation, taken when it was promoted (league.best.eval). */
  readonly bestEval: Report | null;
  readonly bestMeetsTarget: boolean | null;
  /** Step of the first promoted snapshot that met the target (null: none did). */
  readonly bestMetAt: number | null;
  /** Every best promoted after bestMetAt met the target too (null: the best never met it). */
  readonly bestHeld: boolean | null;
}

/** One run of a --runs bench from its final record and the time it was submitted (ms since the epoch). */
export function summariseRun(seed: number, rec: ExperimentRecord, submittedAt: number): RunSummary {
  const hit = firstTargetHit(rec.evaluations);
  const last = rec.evaluations.at(-1);
  return {
    seed,
    stepsToTarget: hit ? hit.step : null,
    secondsToTarget: hit ? +((Date.parse(hit.at) - submittedAt) / 1000).toFixed(1) : null,
    steps: rec.step,
    state: rec.state,
    latestMeetsTarget: last ? (targetMet(last.eval) ?? null) : null,
    best: rec.league?.best ?? null,
    latest: rec.league?.latest ?? null,
    bestEval: rec.league?.best?.eval ?? null,
    bestMeetsTarget: rec.league?.best?.eval ? (targetMet(rec.league.best.eval) ?? null) : null,
    ...bestHistory(rec.league?.gates ?? []),
  };
}

export interface Spread {
  readonly min: number | null;
  readonly median: number | null;
  readonly max: number | null;
}

/** Min, median (the mean of the middle two for an even count) and max of the non-null values; all null when there are none. */
export function spread(values: readonly (number | null)[]): Spread {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { min: null, median: null, max: null };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { min: v[0]!, median: +median.toFixed(1), max: v.at(-1)! };
}

/** The one JSON line of `--runs N`: how many runs reached the target and how fast, then every run. */
export function summariseRuns(config: string, mode: string, perRun: readonly RunSummary[]) {
  const reached = perRun.filter((r) => r.stepsToTarget !== null);
  return {
    bench: 'time-to-target',
    config,
    mode,
    runs: perRun.length,
    reached: reached.length,
    bestMeetsTarget: perRun.filter((r) => r.bestMeetsTarget === true).length,
    bestHeld: perRun.filter((r) => r.bestHeld === true).length,
    stepsToTarget: spread(reached.map((r) => r.stepsToTarget)),
    secondsToTarget: spread(reached.map((r) => r.secondsToTarget)),
    perRun,
  };
}
