/**
 * The part of an experiment record a report reads. Structural, so an ExperimentRecord from the
 * controller or a record.json written by local mode both fit; fields a record may not carry yet
 * (an evaluation's `stage`, `warmStart`, `league`) are optional.
 */
export interface ReportEvaluation {
  /** Self-play learner step, or with `stage: 'warmstart'` the step within the warm start. */
  readonly step: number;
  readonly stage?: string;
  /** suite → metric → value. */
  readonly eval: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly judgeStats?: Readonly<Record<string, number>>;
}

/** One gate of the league (a snapshot against the best): the part a report plots. */
export interface ReportGate {
  /** Self-play learner step of the snapshot. */
  readonly step: number;
  /** The snapshot's Elo rating. */
  readonly rating: number;
  /** The best's Elo rating after this gate. */
  readonly bestRating: number;
  /** league.gating.by: exploitability — the snapshot's exploitability, and the best's after this gate. */
  readonly exploitability?: number;
  readonly bestExploitability?: number;
}

/** The record's league (config.league); only its gates are plotted. */
export interface ReportLeague {
  readonly gates?: readonly ReportGate[];
}

export interface ReportRecord {
  readonly id: string;
  readonly config?: unknown;
  readonly state: string;
  readonly reason?: string;
  readonly step: number;
  readonly policyVersion?: number;
  readonly evaluations?: readonly ReportEvaluation[];
  readonly warmStart?: { readonly from: string; readonly state: string; readonly step: number; readonly steps?: number };
  readonly league?: ReportLeague;
}

export const WARM_START_STAGE = 'warmstart';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks that parsed JSON has the shape a report needs; throws saying where it does not. */
export function asReportRecord(v: unknown, source: string): ReportRecord {
  const bad = (what: string) => new Error(`${source}: not an experiment record (${what})`);
  if (!isObj(v)) throw bad('not a JSON object');
  if (typeof v.id !== 'string') throw bad('no string "id"');
  if (typeof v.state !== 'string') throw bad('no string "state"');
  if (typeof v.step !== 'number') throw bad('no numeric "step"');
  if (v.evaluations !== undefined) {
    if (!Array.isArray(v.evaluations)) throw bad('"evaluations" is not an array');
    v.evaluations.forEach((e: unknown, i) => {
      if (!isObj(e) || typeof e.step !== 'number' || !isObj(e.eval)) throw bad(`evaluations[${i}] needs a numeric "step" and an "eval" object`);
      if (e.judgeStats !== undefined && !isObj(e.judgeStats)) throw bad(`evaluations[${i}].judgeStats is not an object`);
      if (Object.values(e.eval).some((m) => !isObj(m))) throw bad(`evaluations[${i}].eval must map suite → metric → value`);
    });
  }
  if (v.warmStart !== undefined && (!isObj(v.warmStart) || typeof v.warmStart.step !== 'number')) throw bad('"warmStart" needs a numeric "step"');
  if (v.league !== undefined) {
    if (!isObj(v.league)) throw bad('"league" is not an object');
    const gates = v.league.gates;
    if (gates !== undefined) {
      if (!Array.isArray(gates)) throw bad('"league.gates" is not an array');
      gates.forEach((g: unknown, i) => {
        if (!isObj(g) || typeof g.step !== 'number' || typeof g.rating !== 'number' || typeof g.bestRating !== 'number') {
          throw bad(`league.gates[${i}] needs a numeric "step", "rating" and "bestRating"`);
        }
      });
    }
  }
  return v as unknown as ReportRecord;
}
