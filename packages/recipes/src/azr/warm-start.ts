import type { ExperimentConfig } from '@spar/core';
import { EOS_ID, type Vocabulary } from '@spar/policy/schema';
import { createRng, DIFFICULTIES, GeneratorExhaustedError, generateTask, renderAnswer, renderDraft, type Rng, type Task, type TaskType } from '../dsl/index.ts';
import type { OnExcluded } from '../held-out.ts';
import type { WarmStartExample, WarmStartStream } from '../recipe.ts';
import { dslTaskHeldOut } from './held-out.ts';
import type { SolverOptions } from './options.ts';
import { givesProgram, plan } from './propose.ts';
import { checkTask, posable, solverPromptIds, toWire } from './tasks.ts';

/** Tries per example before the stream gives up (every draw too long or held out). */
const MAX_DRAWS = 1000;
/** Share of the examples that train the proposer role (the rest train the solver). */
export const PROPOSER_SHARE = 0.25;
/** References in a proposer example when the options name none (rlvr-fixed): AZR's K. */
const DEFAULT_REFERENCES = 6;

/**
 * Warm-start examples of both DSL recipes (the same stream, so both start from the same prior):
 *  - solver (3 in 4): a generator task of the experiment's task types and every difficulty, as
 *    the solver prompt followed by the executed reference answer and <eos>;
 *  - proposer (1 in 4): AZR's proposer prompt for a type with K generator tasks of that type as
 *    references (uniform 0..K, as many as fit the context) followed by the draft of another
 *    generator task of the type and <eos> — a proposer prior, so proposals do not start from
 *    nothing. Only what the proposer writes is trained (AZR-style induction: the inputs, after
 *    the program the prompt gives).
 * Never a task whose solver prompt the held-out evaluation poses (heldOutSet of eval.seed; each
 * one skipped is reported as a 'warm_start' exclusion, references included), nor one beyond the
 * token budgets.
 */
export function dslWarmStart(config: ExperimentConfig<SolverOptions>, vocab: Vocabulary, seed: number, excluded?: OnExcluded): WarmStartStream {
  const o = config.options;
  const context = config.policy.context ?? 64;
  const references = (o as { references?: number }).references ?? DEFAULT_REFERENCES;
  const rng = createRng(seed >>> 0);
  // A fitting, valid, non-held-out generator task of `type` (any difficulty).
  const draw = (type: TaskType): Task => {
    for (let n = 0; n < MAX_DRAWS; n++) {
      let t: Task;
      try {
        t = generateTask(rng, type, rng.pick(DIFFICULTIES), { shown: o.solverShown, heldOut: o.heldOut });
      } catch (e) {
        if (e instanceof GeneratorExhaustedError) continue;
        throw e;
      }
      if (posable(t, o) !== undefined) continue;
      if (dslTaskHeldOut(config, t)) { excluded?.('warm_start', 1); continue; }
      return t;
    }
    throw new Error(`warm start: no posable, non-held-out ${type} task in ${MAX_DRAWS} draws (token budgets too small?)`);
  };
  const solverExample = (t: Task): WarmStartExample => {
    const prompt = solverPromptIds(vocab, t);
    const answer = [...renderAnswer(t).map((s) => vocab.id(s)), EOS_ID];
    return { tokens: [...prompt, ...answer], mask: [...prompt.map(() => 0), ...answer.map(() => 1)] };
  };
  const proposerExample = (type: TaskType, r: Rng): WarmStartExample | undefined => {
    const refs = Array.from({ length: r.int(references + 1) }, () => draw(type));
    const target = checkTask(toWire(draw(type)), o);
    if (!target.ok) return undefined;
    // As the proposer is prompted: AZR-style induction gives the program, the example teaches its inputs.
    const given = givesProgram(type, o as { inductionProposes?: 'inputs' | 'program' }) ? target.task.program : undefined;
    const p = plan(vocab, type, refs, { ...o, references }, context, given);
    const full = renderDraft(target.task);
    if (full.length > p.row.maxTokens) return undefined;
    const draft = full.slice(p.prefix.length);
    const answer = [...draft.map((s) => vocab.id(s)), EOS_ID];
    return { tokens: [...p.prompt, ...answer], mask: [...p.prompt.map(() => 0), ...answer.map(() => 1)] };
  };
  return (count) => Array.from({ length: count }, () => {
    const type = rng.pick(o.taskTypes);
    if (rng.next() < PROPOSER_SHARE) {
      for (let n = 0; n < MAX_DRAWS; n++) {
        const ex = proposerExample(type, rng);
        if (ex) return ex;
      }
    }
    return solverExample(draw(type));
  });
}
