/**
 * Absolute Zero proposer: the policy writes a draft (program + inputs) for a task type, prompted
 * with up to K reference tasks of that type drawn uniformly without replacement from the type's
 * whole buffer (AZR: K = 6), as many as fit the context. The buffer starts with pinned generator
 * tasks (seedTasks, buffer.ts); a type with no buffer entry at all falls back, as AZR seeds with
 * the identity triple, to the identity program `take 8` and a generator task.
 *
 * The proposer reward is Absolute Zero's learnability (algorithms.md §8), computed by the judge
 * when the task's solver group is judged: r = 1 − solve rate, 0 when the rate is 0 or 1; with the
 * 'azr' shaping a formatted proposal with r = 0 gets −0.5 instead.
 *
 * Invalid proposals (AZR: −1). When validateTask returns valid:false, the proposer service
 * forwards the proposal Sample to the judge as a group with no rollouts, and
 * `judgeInvalidProposal` (re-validating the draft from the Sample itself) gives it −1. With
 * grammar-constrained decoding (the default) drafts always parse, so what is penalised is
 * runtime / size / determinism failures. Copies (a task proposed before, or a program that is a
 * reference's or a batch-mate's) are trained with `copyPenalty` (judgeCopiedProposal).
 *
 * Text mode (PolicyHandle.text, warmStart.from: hf; text.ts): the same choice of type, references
 * and given program, as a chat prompt whose references fit policy.context (default TEXT_CONTEXT)
 * with textProposeTokens to spare; the reply's tagged program and inputs become the symbol mode's
 * draft, so validation, rewards and penalties are the same. Nothing is masked, so a draft that
 * does not parse is possible and penalised like any invalid one (−1, formatOk false).
 */
import type { Sample, Trajectory } from '@spar/core';
import { BOS_ID, EOS_ID, type TextCodec, type Vocabulary } from '@spar/policy/schema';
import {
  createRng, MARK, MAX_INPUT_TOKENS, printProgram, program, programText, renderProposerPrompt, takeS, type Program, type Rng, type Task, type TaskType,
} from '../dsl/index.ts';
import type { JudgedGroup, ProposeContext, ProposedTask } from '../recipe.ts';
import { TaskRejected } from '../errors.ts';
import { AzrBudgetError } from './errors.ts';
import { fitsPrefix, grammarMask, type MaskRow } from './mask.ts';
import type { AzrOptions, SolverOptions } from './options.ts';
import { judgedSample } from '../replay-mask.ts';
import { CHECKER, dslAllowed, responseSymbols } from './solve.ts';
import { checkTask, draftInputs, toWire, type DraftTask } from './tasks.ts';
import { parseTaggedDraft, proposerMessages, proposeTokens, readTextPrompt, replyText, TEXT_CONTEXT, textResponse } from './text.ts';

const TYPE_MARK: Record<TaskType, string> = { deduction: MARK.deduce, abduction: MARK.abduce, induction: MARK.induce };
const MARK_TYPE = new Map(Object.entries(TYPE_MARK).map(([t, m]) => [m, t as TaskType]));

/** Learnability: 1 − rate, 0 when every or no answer was correct. */
export function learnability(solveRate: number): number {
  return solveRate > 0 && solveRate < 1 ? 1 - solveRate : 0;
}

export function proposerReward(solveRate: number, shaping: SolverOptions['rewardShaping']): number {
  const r = learnability(solveRate);
  return shaping !== 'binary' && r === 0 ? -0.5 : r;
}

/** The identity task of a type: `take 8` on fixed distinct inputs. */
export function identityTask(type: TaskType, o: SolverOptions): Task {
  const n = draftInputs(type, o);
  const inputs = Array.from({ length: n }, (_, i) => [(i + 1) % 10, (i + 2) % 10, (i + 3) % 10].slice(0, 1 + (i % 3)));
  return { type, program: program([takeS(8)]), inputs, outputs: inputs, shown: type === 'induction' ? o.solverShown : 1 };
}

function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export interface Plan {
  readonly type: TaskType;
  readonly prompt: number[];
  readonly row: MaskRow;
  readonly refs: readonly Task[];
  /** The draft's given part, at the end of the prompt (AZR-style induction: program and `<in>`); empty otherwise. */
  readonly prefix: readonly string[];
}

/**
 * Whether the proposer of `type` is given a buffer program and writes only its inputs (AZR's
 * induction; option inductionProposes, 'inputs' by default; recipes without the option too).
 */
export function givesProgram(type: TaskType, o: { inductionProposes?: 'inputs' | 'program' }): boolean {
  return type === 'induction' && o.inductionProposes !== 'program';
}

/** The given part of a draft of `program`: its symbols and the first `<in>`. */
export function programPrefix(program: Task['program']): string[] {
  return [...printProgram(program), MARK.in];
}

/** Longest draft of a type (program + inputs) and the shortest possible one. */
function draftSpan(type: TaskType, o: SolverOptions): { inputs: number; full: number; minDraft: number } {
  const inputs = draftInputs(type, o);
  return { inputs, full: o.maxProgramTokens + inputs * (1 + MAX_INPUT_TOKENS), minDraft: 1 + 3 * inputs };
}

/** Fewest symbols the proposer itself writes: a whole draft, or after a given prefix the inputs (`X`, then `<in> X` each). */
function minWritten(type: TaskType, o: SolverOptions, prefix: readonly string[]): number {
  const { inputs, minDraft } = draftSpan(type, o);
  return prefix.length ? 3 * inputs - 1 : minDraft;
}

/**
 * The grammar row of a draft after a prompt of `promptLength` tokens (proposer and judge). A given
 * `prefix` (the prompt's last symbols) counts against the draft's budget; what the proposer writes
 * plus END must fit the context.
 */
export function draftRow(type: TaskType, promptLength: number, o: SolverOptions, context: number, prefix: readonly string[] = []): MaskRow {
  const { inputs, full } = draftSpan(type, o);
  const maxTokens = Math.min(full, context - promptLength - 1 + prefix.length);
  if (maxTokens - prefix.length < minWritten(type, o, prefix)) throw new AzrBudgetError(`policy.context ${context} leaves no room for a ${type} draft`);
  return { kind: 'draft', maxTokens, inputs, programTokens: o.maxProgramTokens, ...(prefix.length ? { prefix } : {}) };
}

/**
 * Choose references and the draft budget so that prompt + draft + END fit the context. `given`:
 * the program an AZR-style induction proposer writes inputs for (it ends the prompt).
 */
export function plan(vocab: Vocabulary, type: TaskType, pool: readonly Task[], o: Pick<AzrOptions, keyof SolverOptions | 'references'>, context: number, given?: Task['program']): Plan {
  const { full } = draftSpan(type, o);
  const prefix = given ? programPrefix(given) : [];
  const written = full - (given ? o.maxProgramTokens + 1 : 0);
  const reserve = Math.min(written, Math.max(minWritten(type, o, prefix), Math.floor((context - 1) / 2)));
  const refs: Task[] = [];
  let symbols = renderProposerPrompt(type, refs);
  for (const r of pool) {
    if (refs.length >= o.references) break;
    const next = renderProposerPrompt(type, [...refs, r]);
    if (1 + next.length + prefix.length + reserve + 1 > context) continue;
    refs.push(r);
    symbols = next;
  }
  const prompt = [BOS_ID, ...[...symbols, ...prefix].map((s) => vocab.id(s))];
  return { type, prompt, row: draftRow(type, prompt.length, o, context, prefix), refs, prefix };
}

/** What a round proposes from: the enabled types' buffer tasks and every buffer program. */
function proposalPool(ctx: ProposeContext<AzrOptions>): { buffer: Map<TaskType, Task[]>; programs: Program[] } {
  const buffer = new Map<TaskType, Task[]>();
  for (const ref of ctx.buffer) {
    const c = checkTask(ref, ctx.config.options);
    if (c.ok) buffer.set(c.task.type, [...(buffer.get(c.task.type) ?? []), c.task]);
  }
  return { buffer, programs: [...buffer.values()].flat().map((t) => t.program) };
}

/** One proposal's type, reference pool (shuffled) and given program (AZR-style induction). */
function choose(rng: Rng, o: AzrOptions, pool: ReturnType<typeof proposalPool>): { type: TaskType; refs: Task[]; given?: Program } {
  const type = o.taskTypes[rng.int(o.taskTypes.length)]!;
  const have = pool.buffer.get(type) ?? [];
  // AZR's induction: a program drawn uniformly from the whole buffer (any type); the proposer writes its inputs.
  const given = givesProgram(type, o) ? (pool.programs.length ? pool.programs[rng.int(pool.programs.length)]! : identityTask(type, o).program) : undefined;
  return { type, refs: have.length ? shuffled(have, rng) : [identityTask(type, o)], given };
}

export async function proposeDrafts(ctx: ProposeContext<AzrOptions>): Promise<ProposedTask[]> {
  const policy = ctx.policy;
  if (!policy) throw new AzrBudgetError('absolute-zero proposes with the policy, but none was given');
  if (policy.text) return proposeText(ctx, policy.text);
  const o = ctx.config.options;
  const context = ctx.config.policy.context ?? 64;
  const rng = createRng(Math.floor(ctx.rng() * 2 ** 32));
  const pool = proposalPool(ctx);
  const plans = Array.from({ length: ctx.count }, () => {
    const { type, refs, given } = choose(rng, o, pool);
    return plan(policy.vocab, type, refs, o, context, given);
  });
  if (plans.length === 0) return [];
  const { temperature, topP } = ctx.config.rollout;
  const res = await policy.generate(plans.map((p) => p.prompt), {
    temperature, topP, stop: [EOS_ID], seed: rng.int(2 ** 31),
    maxNewTokens: Math.max(...plans.map((p) => p.row.maxTokens - p.prefix.length)) + 1,
    mask: o.constrain ? grammarMask(policy.vocab, plans.map((p) => p.row)) : undefined,
  });
  return res.rows.map((row, i) => {
    const { type, prompt, refs, prefix } = plans[i]!;
    const task: DraftTask = { type, draft: [...prefix, ...[...row.tokens].map((id) => policy.vocab.symbol(id))] };
    const proposal: Sample = { tokens: [...prompt, ...row.tokens], promptLength: prompt.length, logprobs: [...row.logprobs], allowed: row.allowed.map((a) => a ?? null), policyVersion: res.version, role: 'proposer' };
    return { task, proposal, shown: refs.map(toWire) };
  });
}

/**
 * Text mode: the proposer's chat prompt with up to K references, as many as leave `proposeTokens`
 * for the reply within `context` (the first that does not fit ends the list: encoding is not free).
 */
export function textPlan(codec: TextCodec, type: TaskType, pool: readonly Task[], o: Pick<AzrOptions, keyof SolverOptions | 'references' | 'textProposeTokens'>, context: number, given?: Program): { prompt: number[]; refs: Task[] } {
  const room = context - proposeTokens(o);
  const refs: Task[] = [];
  let prompt = [...codec.encodeChat(proposerMessages(type, refs, o, given))];
  for (const r of pool) {
    if (refs.length >= o.references) break;
    const next = [...codec.encodeChat(proposerMessages(type, [...refs, r], o, given))];
    if (next.length > room) break;
    refs.push(r);
    prompt = next;
  }
  return { prompt, refs };
}

async function proposeText(ctx: ProposeContext<AzrOptions>, codec: TextCodec): Promise<ProposedTask[]> {
  const policy = ctx.policy!;
  const o = ctx.config.options;
  const context = ctx.config.policy.context ?? TEXT_CONTEXT;
  const rng = createRng(Math.floor(ctx.rng() * 2 ** 32));
  const pool = proposalPool(ctx);
  const plans = Array.from({ length: ctx.count }, () => {
    const { type, refs, given } = choose(rng, o, pool);
    return { type, given, ...textPlan(codec, type, refs, o, context, given) };
  });
  if (plans.length === 0) return [];
  const { temperature, topP } = ctx.config.rollout;
  const res = await policy.generate(plans.map((p) => p.prompt), { temperature, topP, stop: [...codec.eos], seed: rng.int(2 ** 31), maxNewTokens: proposeTokens(o) });
  return res.rows.map((row, i) => {
    const { type, prompt, refs, given } = plans[i]!;
    const task: DraftTask = { type, draft: parseTaggedDraft(replyText(codec, [...row.tokens]).text, given && programText(given)) };
    const proposal: Sample = { tokens: [...prompt, ...row.tokens], promptLength: prompt.length, logprobs: [...row.logprobs], allowed: row.allowed.map((a) => a ?? null), policyVersion: res.version, role: 'proposer' };
    return { task, proposal, shown: refs.map(toWire) };
  });
}

/**
 * What a proposer prompt asks for: the task type (header `<bos> <propose> <type>`) and the
 * draft's given prefix (the symbols after the prompt's last `<prog>`; only induction may have one).
 */
function readPrompt(proposal: Sample, vocab: Vocabulary): { type: TaskType; prefix: string[] } {
  const t = proposal.tokens;
  const header = proposal.promptLength >= 4 && t[0] === BOS_ID && t[1] === vocab.id(MARK.propose);
  const type = header && typeof t[2] === 'number' && t[2] >= 0 && t[2] < vocab.size ? MARK_TYPE.get(vocab.symbol(t[2])) : undefined;
  const prog = header ? t.lastIndexOf(vocab.id(MARK.prog), proposal.promptLength - 1) : -1;
  if (!type || prog < 3) throw new TaskRejected('proposal: prompt is not a proposer prompt');
  const prefix = t.slice(prog + 1, proposal.promptLength).map((id) => vocab.symbol(id));
  if (prefix.length && type !== 'induction') throw new TaskRejected(`proposal: a ${type} prompt gives no program`);
  return { type, prefix };
}

/** The proposal's allowed sets, replayed through the draft grammar with the proposer's budget. */
function proposalAllowed(proposal: Sample, type: TaskType, prefix: readonly string[], o: SolverOptions, vocab: Vocabulary, context: number): number[][] | undefined {
  if (!o.constrain) return undefined;
  let row: MaskRow;
  try {
    row = draftRow(type, proposal.promptLength, o, context, prefix);
  } catch (err) {
    if (err instanceof AzrBudgetError) throw new TaskRejected(`proposal: ${err.message}`);
    throw err;
  }
  if (!fitsPrefix(row)) throw new TaskRejected('proposal: the program the prompt gives does not start a draft');
  return dslAllowed(proposal, grammarMask(vocab, [row]), 'proposal');
}

/**
 * Judge side: the proposal must be a proposer prompt for the task's type whose draft, re-validated,
 * is exactly this task (same canonical key), written within the draft grammar. Returns a clean
 * copy of the sample with the allowed sets recomputed.
 */
export function checkProposal(proposal: Sample, task: Task, key: string, o: SolverOptions, vocab: Vocabulary, context: number): Sample {
  const written = responseSymbols(vocab, proposal, 'proposal');
  const { type, prefix } = readPrompt(proposal, vocab);
  if (type !== task.type) throw new TaskRejected('proposal: prompt asks for another task type');
  const c = checkTask({ type: task.type, draft: [...prefix, ...written] } satisfies DraftTask, o);
  if (!c.ok || c.key !== key) throw new TaskRejected(`proposal: draft does not produce this task${c.ok ? '' : ` (${c.reason})`}`);
  return judgedSample(proposal, 'proposer', proposalAllowed(proposal, task.type, prefix, o, vocab, context));
}

export function proposerTrajectory(sample: Sample, task: Task, group: string, solveRate: number, o: SolverOptions): Omit<Trajectory, 'trajectoryId'> {
  return {
    sample, reward: proposerReward(solveRate, o.rewardShaping), formatOk: true, correct: learnability(solveRate) > 0,
    group: `${group}/proposer`, segment: `${task.type}/proposer`,
  };
}

/**
 * The trajectory for a draft the judge finds invalid, with AZR's −1 (0 under 'binary').
 * Re-validates the draft from the Sample; a valid one is rejected here.
 */
export function judgeInvalidProposal(proposal: Sample, o: SolverOptions, vocab: Vocabulary, context: number): JudgedGroup {
  const written = responseSymbols(vocab, proposal, 'proposal');
  const { type, prefix } = readPrompt(proposal, vocab);
  const allowed = proposalAllowed(proposal, type, prefix, o, vocab, context);
  const c = checkTask({ type, draft: [...prefix, ...written] } satisfies DraftTask, o);
  if (c.ok) throw new TaskRejected('proposal: the draft is valid; judge it with its solver group');
  const formatOk = !c.reason.startsWith('format');
  return {
    provenance: CHECKER,
    stats: { invalidProposal: 1, copyProposal: 0 },
    trajectories: [{
      sample: judgedSample(proposal, 'proposer', allowed), reward: o.rewardShaping === 'binary' ? 0 : -1, formatOk, correct: false,
      group: `${type}/proposer/invalid`, segment: `${type}/proposer`,
    }],
  };
}

/** Text mode: the draft a text proposal's reply makes, with the type its prompt asks for (judge side). */
function textDraft(proposal: Sample, o: SolverOptions, codec: TextCodec): DraftTask {
  const response = textResponse(codec, proposal, 'proposal', proposeTokens(o as Partial<AzrOptions>));
  const { type, given } = readTextPrompt(codec, proposal);
  return { type, draft: parseTaggedDraft(replyText(codec, response).text, given) };
}

/** checkProposal in text mode: the reply's tagged draft, re-validated, must be exactly this task; nothing is masked. */
export function checkTextProposal(proposal: Sample, task: Task, key: string, o: SolverOptions, codec: TextCodec): Sample {
  const d = textDraft(proposal, o, codec);
  if (d.type !== task.type) throw new TaskRejected('proposal: prompt asks for another task type');
  const c = checkTask(d, o);
  if (!c.ok || c.key !== key) throw new TaskRejected(`proposal: draft does not produce this task${c.ok ? '' : ` (${c.reason})`}`);
  return judgedSample(proposal, 'proposer', undefined);
}

/** judgeInvalidProposal in text mode: AZR's −1 (0 under 'binary'); formatOk false when the reply's draft does not parse. */
export function judgeInvalidTextProposal(proposal: Sample, o: SolverOptions, codec: TextCodec): JudgedGroup {
  const d = textDraft(proposal, o, codec);
  const c = checkTask(d, o);
  if (c.ok) throw new TaskRejected('proposal: the draft is valid; judge it with its solver group');
  return {
    provenance: CHECKER,
    stats: { invalidProposal: 1, copyProposal: 0 },
    trajectories: [{
      sample: judgedSample(proposal, 'proposer', undefined), reward: o.rewardShaping === 'binary' ? 0 : -1, formatOk: !c.reason.startsWith('format'), correct: false,
      group: `${d.type}/proposer/invalid`, segment: `${d.type}/proposer`,
    }],
  };
}
