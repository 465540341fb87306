/**
 * rlvr-fixed: the control group for absolute-zero. Tasks come from the fixed uniform generator
 * (uniform over the enabled task types and difficulties), no proposer samples; solving, judging
 * and the held-out evaluation are absolute-zero's. Learner default: GRPO over the G answers of a
 * task (group = task hash).
 *
 * Generated tasks go through the same validation as proposed ones; a draw that does not fit the
 * token budgets (maxPromptTokens, maxAnswerTokens, maxProgramTokens), or that poses a prompt of
 * the held-out evaluation set (decontamination: reported as 'generator' exclusions), is redrawn in
 * the same (type, difficulty) cell, so the stream is uniform over cells, conditioned on fitting
 * and on being new to the evaluation.
 *
 * Text mode (warmStart.from: hf): the generator's tasks answered and judged as absolute-zero's
 * text mode does (solve.ts, text.ts).
 */
import { createRng, GeneratorExhaustedError, generateTask, type Difficulty } from '../dsl/index.ts';
import type { ProposedTask, Recipe } from '../recipe.ts';
import { promptFitIssues } from '../text-reply.ts';
import { dslPromptFits } from './text.ts';
import { AZR_VOCABULARY, dslRollout, dslValidity } from './common.ts';
import { dslSuites, evaluateDsl } from './eval.ts';
import { judgeDslGroup } from './judge.ts';
import { decodeOf } from './solve.ts';
import { RlvrOptionsSchema, type RlvrOptions } from './options.ts';
import { checkTask, toWire } from './tasks.ts';
import { dslWarmStart } from './warm-start.ts';
import { dslHeldOut, dslTaskHeldOut } from './held-out.ts';

const REDRAWS = 50;

export const rlvrFixed: Recipe<RlvrOptions> = {
  name: 'rlvr-fixed',
  description: 'Control group: RL with verifiable rewards on a fixed uniform DSL task generator (no proposer); judged and evaluated as absolute-zero; GRPO',
  optionsSchema: RlvrOptionsSchema,
  proposesWithPolicy: false,
  textMode: true,
  defaultEstimator: { kind: 'grpo' },
  vocabulary: () => [AZR_VOCABULARY],
  segments: (o) => o.taskTypes.map((t) => `${t}/solver`),

  async propose(ctx) {
    const o = ctx.config.options;
    const rng = createRng(Math.floor(ctx.rng() * 2 ** 32));
    const out: ProposedTask[] = [];
    let heldOut = 0;
    for (let i = 0; i < ctx.count; i++) {
      const type = o.taskTypes[rng.int(o.taskTypes.length)]!;
      const d = o.difficulties[rng.int(o.difficulties.length)]! as Difficulty;
      for (let attempt = 0; attempt < REDRAWS; attempt++) {
        let wire;
        try { wire = toWire(generateTask(rng, type, d, { shown: o.solverShown, heldOut: o.heldOut })); } catch (e) {
          if (e instanceof GeneratorExhaustedError) break;
          throw e;
        }
        const c = checkTask(wire, o);
        if (!c.ok) continue;
        if (dslTaskHeldOut(ctx.config, c.task)) { heldOut++; continue; }
        out.push({ task: c.wire });
        break;
      }
    }
    if (heldOut) ctx.excluded?.('generator', heldOut);
    return out;
  },

  validateTask: (task, o) => dslValidity(task, o),
  rollout: (ctx, task, groupSize) => dslRollout(ctx, task, groupSize),
  // No proposer in the control group: a proposal in the payload is ignored.
  judge: (task, rollouts, _proposal, o, vocab, config, _copy, text) => judgeDslGroup(task, rollouts, undefined, o, vocab, decodeOf(config), undefined, text),
  evalSuites: (o) => dslSuites(o),
  evaluate: (policy, suites, opts, o) => evaluateDsl(policy, suites, opts, o),
  warmStartExamples: (config, vocab, seed, excluded) => dslWarmStart(config, vocab, seed, excluded),
  heldOut: (config) => dslHeldOut(config),
  textPromptIssues: (config, codec, context) => promptFitIssues(dslPromptFits(config, codec, false), context),
};
