import type { TSchema } from '@sinclair/typebox';
import type { ExperimentConfig, FieldIssue, Provenance, Sample, Trajectory, Validity } from '@spar/core';
import type { GenerateOptions, GenerateResult, TextCodec, Vocabulary, VocabularySpec } from '@spar/policy/schema';
import type { HeldOut, OnExcluded } from './held-out.ts';

/**
 * What a recipe acts with: the worker's current policy and its vocabulary. With an imported text
 * model (warmStart.from: hf) `text` is present: the model's ids are then the tokenizer's, and a
 * recipe with a text mode (Recipe.textMode) writes prompts and reads answers through it; `vocab`
 * stays the recipe's symbol vocabulary, which the model does not use.
 */
export interface PolicyHandle {
  readonly vocab: Vocabulary;
  readonly text?: TextCodec;
  readonly version: number;
  generate(prompts: readonly ArrayLike<number>[], opts: GenerateOptions): Promise<GenerateResult>;
  /** Per-token log-probs of whole sequences (index 0 is NaN). */
  score(sequences: readonly ArrayLike<number>[]): Promise<Float32Array[]>;
}

/** What a policy handle is made from: anything that generates and scores (a Policy, a FollowedPolicy). */
export interface PolicyLike {
  readonly version: number;
  generate(prompts: readonly ArrayLike<number>[], opts: GenerateOptions): Promise<GenerateResult>;
  score(sequences: readonly ArrayLike<number>[]): Promise<Float32Array[]>;
}

/** A recipe's view of `policy` with `vocab` (and `text`, for an imported text model): live (its version is read at each use). */
export function policyHandle(vocab: Vocabulary, policy: PolicyLike, text?: TextCodec): PolicyHandle {
  return {
    vocab, ...(text ? { text } : {}), get version() { return policy.version; }, generate: (p, o) => policy.generate(p, o), score: (s) => policy.score(s),
  };
}

export interface ProposeContext<O> {
  readonly config: ExperimentConfig<O>;
  /** Present when the recipe proposes with the policy (absolute-zero, r-zero). */
  readonly policy?: PolicyHandle;
  /**
   * The experiment's task buffer: valid tasks, newest first, then the pinned seed tasks
   * (Recipe.seedTasks). Absolute Zero draws its K references uniformly from it.
   */
  readonly buffer: readonly unknown[];
  readonly count: number;
  readonly rng: () => number;
  /** Reports held-out tasks a generator left out (decontamination; see held-out.ts). */
  readonly excluded?: OnExcluded;
}

export interface ProposedTask {
  readonly task: unknown;
  /** The proposer's own generation, trained later with the proposer reward. */
  readonly proposal?: Sample;
  /** The buffer tasks shown in the proposal's prompt (for the copy check, Recipe.novelty). */
  readonly shown?: readonly unknown[];
}

export interface SolveContext<O> {
  readonly config: ExperimentConfig<O>;
  readonly policy: PolicyHandle;
  readonly rng: () => number;
  /**
   * A frozen snapshot to play against (config.league.opponents): it takes one seat of every
   * episode of the group; its moves are recorded for the judge's replay but never trained.
   */
  readonly opponent?: Opponent;
  /**
   * The policy whose answers label this group's (config.roles.labeler; recipes with
   * labelsWithPolicy): its answers are sent for the judge's vote and never trained.
   * `sameAsPolicy`: it holds the very weights of `policy` now (a copy taken at the round start,
   * while the solver is held fixed), so the group's own answers serve as its votes.
   */
  readonly labeler?: { readonly policy: PolicyHandle; readonly sameAsPolicy: boolean };
}

/** A frozen snapshot of the learning policy, as an opponent. */
export interface Opponent {
  readonly policy: PolicyHandle;
  /** The snapshot's policy version (its name in the pool). */
  readonly version: number;
}

/** One side of a rated match: a policy, or the name of one of the recipe's anchors. */
export type MatchSide = PolicyHandle | string;

export interface MatchOptions {
  readonly games: number;
  readonly seed: number;
}

/** A match's result from the first side's point of view. */
export interface MatchScore {
  readonly wins: number;
  readonly draws: number;
  readonly losses: number;
  readonly games: number;
}

/** A judged group: every trajectory the learner should train on, and judge-side statistics. */
export interface JudgedGroup {
  readonly trajectories: readonly Omit<Trajectory, 'trajectoryId'>[];
  readonly provenance: Provenance;
  /**
   * Judge-side measurements. The learner averages each over the groups that carry it, so a stat
   * that is a rate must be carried by every group of its kind (0 or 1 each), not only the 1s.
   */
  readonly stats?: Readonly<Record<string, number>>;
  /** The task's canonical key (Validity.canonical) when every answer of the group was correct. */
  readonly solvedKey?: string;
  /** A group played against a snapshot: the learning side's score (draws half) over its games. */
  readonly opponent?: { readonly version: number; readonly score: number; readonly games: number };
}

/**
 * Why a valid proposal is a copy (trained with the recipe's copy penalty instead of solved):
 * 'duplicate' an earlier task of the experiment, or — by Recipe.novelty — a near-duplicate of
 * a 'reference' shown in its prompt or of a 'batch'-mate proposed before it in the same round.
 */
export type CopyKind = 'duplicate' | 'reference' | 'batch';

export type EvalReport = Record<string, Record<string, number>>;

/**
 * One supervised warm-start example: prompt followed by the reference answer; `mask` is 1 on the
 * answer tokens (the loss is on them alone), aligned with `tokens`.
 */
export interface WarmStartExample {
  readonly tokens: readonly number[];
  readonly mask: readonly number[];
}

/** Draws the next `count` warm-start examples (a deterministic stream from its seed). */
export type WarmStartStream = (count: number) => WarmStartExample[];

export interface EvalOptions {
  readonly episodes: number;
  readonly seed: number;
}

/**
 * A recipe: everything recipe-specific that the generic services drive. No service switches on
 * the recipe name; they call these methods.
 */
export interface Recipe<O = any> {
  readonly name: string;
  readonly description: string;
  readonly optionsSchema: TSchema;
  /** Alphabets and special tokens the policy must cover. */
  vocabulary(options: O): VocabularySpec[];
  /** Segment names (TRR++ segments / RAE keys); a trajectory's `segment` is one of these. */
  segments(options: O): string[];
  /** Estimator used when the experiment names none. */
  readonly defaultEstimator?: { kind: 'grpo' | 'drgrpo' | 'rloo' | 'reinforce++' | 'trr++' | 'rae'; decay?: number };
  /** Whether proposing needs the policy (else tasks come from a programmatic generator). */
  readonly proposesWithPolicy: boolean;
  /**
   * Whether the recipe runs an imported text model (warmStart.from: hf): prompts rendered with the
   * model's chat template and answers read from decoded text through PolicyHandle.text and the
   * judge's `text`, no grammar masks. Without it `from: hf` is refused at submit.
   */
  readonly textMode?: boolean;
  /**
   * Text mode, at submit: the recipe's longest prompts, encoded with the imported model's
   * tokenizer, must leave their reply budgets within `context` (the context the experiment runs
   * the model with); each that does not is an issue (paths from the config's root).
   */
  textPromptIssues?(config: ExperimentConfig<O>, codec: TextCodec, context: number): FieldIssue[];
  /** Whether the solver's answers may be labelled by another policy's answers (config.roles.labeler); default false. */
  readonly labelsWithPolicy?: boolean;
  propose(ctx: ProposeContext<O>): Promise<ProposedTask[]>;
  /** Judge-side validity of a proposed task, executed under the recipe's limits. */
  validateTask(task: unknown, options: O): Validity;
  /** Solver: one group of rollouts (answers, or whole episodes) for a task. */
  rollout(ctx: SolveContext<O>, task: unknown, groupSize: number): Promise<unknown[]>;
  /**
   * Invalid proposals are trained (AZR's −1): the proposer forwards a proposal whose task the
   * judge found invalid as a group with no rollouts, and judge() scores the proposal alone.
   */
  readonly trainsInvalidProposals?: boolean;
  /**
   * Judge: rewards for the group; never trusts the solver's claims (replays/re-executes). Under
   * constrained decoding the allowed sets of every trained sample are recomputed from the grammar
   * (replay-mask.ts) with the decode caps of `config` (policy.context, rollout.maxNewTokens);
   * `options` are the options to judge under (normally `config.options`). `text`: the imported
   * model's codec (warmStart.from: hf, recipes with textMode): the samples' ids are its ids.
   */
  judge(task: unknown, rollouts: readonly unknown[], proposal: Sample | undefined, options: O, vocab: Vocabulary, config: ExperimentConfig<O>, copy?: CopyKind, text?: TextCodec): JudgedGroup;
  /**
   * Copies are trained, not dropped: a valid proposal that copies (CopyKind) goes to the judge as
   * a group with no rollouts and `copy` set, and judge() gives it the recipe's copy penalty.
   * Recipes without it drop duplicates untrained.
   */
  readonly trainsCopies?: boolean;
  /**
   * What makes a task new: `key` — two tasks with the same key are near-duplicates (absolute-zero:
   * the program; the whole task where the program is given); `program` — what the proposer wrote
   * that counts toward diversity (distinct programs per 1,000 proposals), absent when it wrote none.
   */
  novelty?(task: unknown, options: O): { readonly key: string; readonly program?: string } | undefined;
  /** The held-out evaluation prompts of `config` (decontamination, held-out.ts). */
  heldOut?(config: ExperimentConfig<O>): HeldOut;
  /**
   * Tasks that seed the task buffer before self-play (pinned, never evicted): valid, never
   * held-out (reported through `excluded`), deterministic in `seed`.
   */
  seedTasks?(config: ExperimentConfig<O>, seed: number, excluded?: OnExcluded): unknown[];
  /**
   * Solver replay: the share of each round's tasks drawn uniformly from the buffer (tasks the
   * solver always solves left out); 0 or absent: none. `replayTask` labels a buffer task as a replay.
   */
  replayShare?(options: O): number;
  replayTask?(task: unknown): unknown;
  /**
   * Rated play (config.league): the recipe's fixed reference players (the first is rated 0), and
   * `games` games between two sides with the seats balanced. Recipes without them cannot run a league.
   */
  anchors?(options: O): readonly string[];
  match?(a: MatchSide, b: MatchSide, opts: MatchOptions, options: O): Promise<MatchScore>;
  /**
   * Cross-field rules of the options the schema cannot say (paths relative to /options); `text`:
   * the experiment runs an imported text model (warmStart.from: hf).
   */
  optionsIssues?(options: O, text: boolean): FieldIssue[];
  /** Why `options` cannot run `league` (undefined: it can). */
  leagueIssue?(options: O, league: NonNullable<ExperimentConfig['league']>): string | undefined;
  /**
   * The exact exploitability of the policy's behaviour strategy (lower is stronger): what
   * league.gating.by: exploitability gates on. Only for options whose leagueIssue allows it.
   */
  exploitability?(policy: PolicyHandle, options: O): Promise<number>;
  /** Held-out evaluation suites this recipe offers. */
  evalSuites(options: O): string[];
  evaluate(policy: PolicyHandle, suites: readonly string[], opts: EvalOptions, options: O): Promise<EvalReport>;
  /**
   * Supervised examples for a warm start (`warmStart.from: sft`): tasks with reference answers,
   * rendered exactly as the solver sees them. Never a task of the held-out evaluation set of
   * `config.eval` (same generator, so the stream skips those). A recipe without it refuses `sft`.
   */
  warmStartExamples?(config: ExperimentConfig<O>, vocab: Vocabulary, seed: number, excluded?: OnExcluded): WarmStartStream;
}
