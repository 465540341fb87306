/**
 * Payloads traded between services. Every payload carries an Envelope; ids are deterministic
 * (see ids.ts), so a re-delivered job recomputes the same ids and is deduplicated downstream.
 */
export interface Envelope {
  readonly experimentId: string;
  readonly recipe: string;
  /** The role that produced this payload: 'proposer', 'solver', 'env', a game seat, ... */
  readonly role: string;
  /** Policy version that produced it (-1 when no policy was involved). */
  readonly policyVersion: number;
  readonly taskId: string;
  readonly groupId: string;
  readonly trajectoryId: string;
  /** Ids this payload derives from (e.g. the task a rollout group answers). */
  readonly parentIds: readonly string[];
  /** ISO-8601 time of creation. */
  readonly createdAt: string;
}

/** One policy generation: prompt + response tokens with the behaviour log-probs of the response. */
export interface Sample {
  readonly tokens: readonly number[];
  /** Tokens [0, promptLength) are the prompt; the rest is the response (trained). */
  readonly promptLength: number;
  /** Behaviour log-probs of each response token (length = tokens.length − promptLength). */
  readonly logprobs: readonly number[];
  readonly policyVersion: number;
  /** Role that produced it (e.g. 'solver', 'proposer', 'player0'). */
  readonly role: string;
  /**
   * Constrained decoding: the token ids allowed at each response position (null where
   * unconstrained). The behaviour log-probs are over that set; the learner trains the same
   * restricted distribution.
   */
  readonly allowed?: readonly (readonly number[] | null)[];
}

/** tasks queue job: a task for solvers, optionally with the proposer's own generation. */
export interface TaskJob {
  readonly envelope: Envelope;
  readonly task: unknown;
  readonly proposal?: Sample;
}

/** rollouts queue job: the group of rollouts a solver produced for one task. */
export interface RolloutJob {
  readonly envelope: Envelope;
  readonly task: unknown;
  readonly proposal?: Sample;
  /** Recipe-specific records (answers, or whole game episodes with per-turn samples). */
  readonly rollouts: readonly unknown[];
  /**
   * Set on a proposal the proposer found to be a copy (no rollouts): 'duplicate', 'reference' or
   * 'batch' (Recipe.trainsCopies); the judge trains it with the recipe's copy penalty.
   */
  readonly copy?: 'duplicate' | 'reference' | 'batch';
}

/** Verdict provenance: which checker, which version. */
export interface Provenance {
  readonly checker: string;
  readonly version: string;
}

/** One judged sample: what the learner trains on. */
export interface Trajectory {
  readonly trajectoryId: string;
  readonly sample: Sample;
  readonly reward: number;
  readonly formatOk: boolean;
  readonly correct: boolean;
  /** GRPO/RLOO group key (samples compared with each other). */
  readonly group: string;
  /** TRR++ segment / RAE key, e.g. 'deduction/solver' or 'tictactoe/player0'. */
  readonly segment: string;
}

/** One experience-stream entry: a whole judged group (group estimators need it whole). */
export interface ExperienceEntry {
  readonly envelope: Envelope;
  readonly provenance: Provenance;
  readonly trajectories: readonly Trajectory[];
  /** Judge-side measurements (e.g. pseudo-label accuracy), exported as metrics, never rewards. */
  readonly stats?: Readonly<Record<string, number>>;
}

/** Result of a task validity check (judge side). */
export interface Validity {
  readonly valid: boolean;
  readonly reason?: string;
  /** Canonical text of the task (dedupe key). */
  readonly canonical?: string;
  /** The task as the judge normalised it (e.g. with the executed output filled in). */
  readonly task?: unknown;
}

export type ExperimentState = 'queued' | 'running' | 'completed' | 'stopped' | 'failed';

export interface ExperimentRecord {
  readonly id: string;
  readonly config: unknown;
  readonly state: ExperimentState;
  readonly reason?: string;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly step: number;
  readonly policyVersion: number;
  readonly metrics: Readonly<Record<string, number>>;
  /** Latest evaluation: suite → metric → value. */
  readonly eval?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * Evaluation history (last 200). `judgeStats`: the mean of each judge-side measurement (e.g.
   * r-zero's pseudoLabelAccuracy, trueAccuracy) over the groups trained since the previous entry.
   */
  readonly evaluations: readonly {
    step: number; at: string; eval: Record<string, Record<string, number>>; judgeStats?: Record<string, number>;
    /** 'warmstart': taken during the warm-start stage, `step` counting its supervised steps. Absent: self-play. */
    stage?: 'warmstart';
  }[];
  /** The warm-start stage (config.warmStart): progress while it runs, held-out evaluation before and after. */
  readonly warmStart?: WarmStartProgress;
  /** Curriculum health and decontamination, as of the latest evaluation (see Curriculum). */
  readonly curriculum?: Curriculum;
  /** Snapshots, best and latest, ratings (config.league). */
  readonly league?: LeagueState;
  /** Named policies (config.policies): each one's published version, optimizer steps, and whether it is frozen. */
  readonly policies?: Readonly<Record<string, NamedPolicyState>>;
  /** With config.rounds: the current round (0-based) and phase (index into rounds.phases). */
  readonly round?: { readonly round: number; readonly phase: number };
  /** Where the learner wrote the final policy export. */
  readonly artifacts?: Readonly<Record<string, string>>;
  readonly stopRequested?: boolean;
}

/**
 * Decontamination and curriculum counters of a run (written by the learner at every evaluation).
 * `excluded`: held-out tasks left out, by training source; `contaminated`: held-out tasks that
 * still reached a judge's group judging (must stay 0: each source filters on its own first).
 */
export interface Curriculum {
  readonly excluded: Readonly<Record<string, number>>;
  readonly contaminated: number;
  /** Distinct programs among the newest 1,000 new proposals that wrote one (absolute-zero: not AZR-style induction), per 1,000. */
  readonly distinctPer1000?: number;
  /** Proposals so far by outcome (valid, invalid, copy, held_out). */
  readonly proposals?: Readonly<Record<string, number>>;
}

/** One rated player: a fixed reference of the recipe (an anchor) or a snapshot of the learning policy. */
export interface RatedPlayer {
  /** 'random', 'minimax', 'nash' (anchors) or 'v<version>' (a snapshot). */
  readonly player: string;
  readonly anchor?: boolean;
  readonly version?: number;
  readonly step?: number;
  /** Elo scale (400·log10 odds); the recipe's first anchor is 0. Fixed once computed. */
  readonly rating: number;
  /** Games it played in rated matches. */
  readonly games: number;
}

/** A policy of the league named in the record: the best (gated) or the latest snapshot. */
export interface LeaguePolicy {
  readonly version: number;
  readonly step: number;
  readonly rating: number;
  /** The held-out evaluation of this policy (the best: taken when it was promoted). */
  readonly eval?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Its exact exploitability (league.gating.by: exploitability). */
  readonly exploitability?: number;
}

/** A named policy's state in the experiment record. */
export interface NamedPolicyState {
  readonly version: number;
  readonly step: number;
  readonly frozen: boolean;
  /** With config.rounds: whether the current phase trains it. */
  readonly training?: boolean;
  /** A copying policy (config.policies.<name>.copies): the source and the source's version it holds. */
  readonly copyOf?: { readonly policy: string; readonly version: number };
}

/** One gate: a snapshot against the best. */
export interface GateResult {
  readonly step: number;
  readonly at: string;
  readonly version: number;
  /** The snapshot's score against the best (wins + draws/2 over games). */
  readonly score: number;
  readonly games: number;
  readonly rating: number;
  readonly promoted: boolean;
  /** The best's rating after this gate. */
  readonly bestRating: number;
  /** The snapshot's held-out evaluation, taken when it was promoted. */
  readonly eval?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** gating.by: exploitability — the snapshot's exact exploitability, and the best's after this gate. */
  readonly exploitability?: number;
  readonly bestExploitability?: number;
}

/** config.league in the record: written by the learner at every snapshot. */
export interface LeagueState {
  readonly best?: LeaguePolicy;
  readonly latest?: LeaguePolicy;
  /** Anchors and every snapshot rated so far (the newest 200 snapshots). */
  readonly ratings: readonly RatedPlayer[];
  /** Every gate, oldest first (the newest 200). */
  readonly gates: readonly GateResult[];
}

export interface WarmStartProgress {
  readonly from: string;
  readonly state: 'running' | 'done';
  /** Supervised steps taken (sft); 0 for a load of earlier weights. */
  readonly step: number;
  /** Planned steps (sft with `steps`). */
  readonly steps?: number;
  readonly loss?: number;
  readonly source?: string;
  readonly evalBefore?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Held-out evaluation at the end of the stage (same keys as `eval`). */
  readonly eval?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly seconds?: number;
}

export const TERMINAL_STATES: readonly ExperimentState[] = ['completed', 'stopped', 'failed'];
