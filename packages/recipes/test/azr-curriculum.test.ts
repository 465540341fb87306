/** absolute-zero's curriculum machinery: copies, AZR-style induction prompts, judge stats as rates, seed tasks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExperiment, type ExperimentConfig, type Sample } from '@spar/core';
import { BOS_ID, EOS_ID } from '@spar/policy';
import { absoluteZero, TaskRejected, checkTask, rlvrFixed, toWire, type AnswerRecord, type AzrOptions, type WireTask } from '../src/azr/index.ts';
import { createRng, generateTask, MARK, printProgram, renderAnswer, renderDraft, renderSolverPrompt, type Task } from '../src/dsl/index.ts';
import { RecipeRegistry, vocabularyFor } from '../src/index.ts';

const registry = new RecipeRegistry([absoluteZero, rlvrFixed]);
const config = parseExperiment({ name: 't', recipe: 'absolute-zero', policy: { layers: 1, dModel: 32, heads: 2, context: 128 } }, registry) as ExperimentConfig<AzrOptions>;
const o = config.options;
const vocab = vocabularyFor(absoluteZero, config);
const ids = (syms: readonly string[]) => syms.map((s) => vocab.id(s));

function valid(type: Task['type'], seed: number): { task: Task; wire: WireTask } {
  const rng = createRng(seed);
  for (;;) {
    const c = checkTask(toWire(generateTask(rng, type, 1, { shown: o.solverShown, heldOut: o.heldOut })), o);
    if (c.ok) return { task: c.task, wire: c.wire };
  }
}

/** A proposer sample for `task`: `given` symbols of its draft end the prompt (AZR-style induction), the rest is written. */
function proposal(task: Task, given = 0): Sample {
  const mark = { deduction: MARK.deduce, abduction: MARK.abduce, induction: MARK.induce }[task.type];
  const draft = renderDraft(task);
  const prompt = [BOS_ID, ...ids([MARK.propose, mark, MARK.prog, ...draft.slice(0, given)])];
  const response = [...ids(draft.slice(given)), EOS_ID];
  return { tokens: [...prompt, ...response], promptLength: prompt.length, logprobs: response.map(() => -1), policyVersion: 0, role: 'proposer' };
}

function answers(task: Task, right: number, n = 4): AnswerRecord[] {
  const prompt = [BOS_ID, ...ids(renderSolverPrompt(task))];
  return Array.from({ length: n }, (_, i) => {
    const syms = i < right ? renderAnswer(task) : ['[', ']'];
    const response = [...ids(syms), EOS_ID];
    return { index: i, sample: { tokens: [...prompt, ...response], promptLength: prompt.length, logprobs: response.map(() => -1), policyVersion: 0, role: 'solver' } };
  });
}

test('a copied proposal is trained with copyPenalty (0 under binary), counted as copyProposal; it must still be this task', () => {
  const { task, wire } = valid('deduction', 3);
  for (const copy of ['duplicate', 'reference', 'batch'] as const) {
    const j = absoluteZero.judge(wire, [], proposal(task), o, vocab, config, copy);
    assert.equal(j.trajectories.length, 1);
    const t = j.trajectories[0]!;
    assert.equal(t.reward, -1);
    assert.equal(t.segment, 'deduction/proposer');
    assert.deepEqual(j.stats, { invalidProposal: 0, copyProposal: 1 });
  }
  const gentle = { ...o, copyPenalty: -0.25 };
  assert.equal(absoluteZero.judge(wire, [], proposal(task), gentle, vocab, config, 'batch').trajectories[0]!.reward, -0.25);
  assert.equal(absoluteZero.judge(wire, [], proposal(task), { ...o, rewardShaping: 'binary' }, vocab, config, 'batch').trajectories[0]!.reward, 0);
  // A copy kind the judge does not know is a malformed job, refused with its name.
  assert.throws(() => absoluteZero.judge(wire, [], proposal(task), o, vocab, config, 'stolen' as never), /unknown copy kind "stolen"/);
  // The proposal must have produced this very task.
  const other = valid('deduction', 4);
  assert.throws(() => absoluteZero.judge(other.wire, [], proposal(task), o, vocab, config, 'reference'), TaskRejected);
});

test('judge stats are rates over every group of their kind: own tasks, replays, invalid and copied proposals', () => {
  const { task, wire } = valid('deduction', 5);
  const own = absoluteZero.judge(wire, answers(task, 2), proposal(task), o, vocab, config);
  assert.equal(own.stats!.ownSolveRate, 0.5);
  assert.equal(own.stats!.invalidProposal, 0);
  assert.equal(own.stats!.copyProposal, 0);
  assert.equal(own.stats!.learnability, 0.5);
  assert.equal(own.solvedKey, undefined);
  const replay = absoluteZero.judge({ ...wire, replay: true }, answers(task, 4), undefined, o, vocab, config);
  assert.deepEqual(Object.keys(replay.stats!).sort(), ['formatErrorRate', 'replaySolveRate', 'solveRate']);
  assert.equal(replay.stats!.replaySolveRate, 1);
  assert.equal(replay.solvedKey, checkTask(wire, o).ok && (checkTask(wire, o) as { key: string }).key, 'an always-solved task reports its key (kept out of replay)');
  assert.equal(replay.trajectories.length, 4, 'a replay trains the solver only');
});

test('AZR-style induction: the prompt gives a program, the proposer writes inputs; the judge rebuilds the draft from both', () => {
  const { task, wire } = valid('induction', 6);
  const given = printProgram(task.program).length + 1; // program and the first <in>
  const p = proposal(task, given);
  const judged = absoluteZero.judge(wire, answers(task, 2, 2), p, o, vocab, config);
  const t = judged.trajectories.find((x) => x.sample.role === 'proposer')!;
  assert.ok(t);
  // Allowed sets replayed from the given prefix: one per written token, the first an input symbol (not a program one).
  assert.equal(t.sample.allowed!.length, p.tokens.length - p.promptLength);
  assert.ok(!t.sample.allowed![0]!.includes(vocab.id(MARK.in)));
  // The novelty key of an induction task is the whole task (its program is given).
  const k1 = absoluteZero.novelty!(wire, o)!.key;
  const sameProgram = checkTask({ ...wire, inputs: [...wire.inputs].reverse() }, o);
  assert.ok(sameProgram.ok);
  assert.notEqual(absoluteZero.novelty!(sameProgram.wire, o)!.key, k1);
  // …while a deduction task's is its program.
  const d = valid('deduction', 7);
  assert.equal(absoluteZero.novelty!(d.wire, o)!.key, absoluteZero.novelty!({ ...d.wire, inputs: [[1, 2]] }, o)!.key);
  // Induction's given program is not the proposer's own; a deduction program is.
  assert.equal(absoluteZero.novelty!(wire, o)!.program, undefined);
  assert.equal(absoluteZero.novelty!(d.wire, o)!.program, d.wire.program);
  // A deduction prompt cannot come with a pre-written program.
  const forged = proposal(d.task, printProgram(d.task.program).length);
  assert.throws(() => absoluteZero.judge(d.wire, answers(d.task, 1, 2), forged, o, vocab, config), /gives no program/);
});

test('seed tasks: per type, valid, distinct, deterministic in the seed, within the configured difficulties', () => {
  const small = { ...config, options: { ...o, seedTasks: 20, difficultyOfSeed: 1 } };
  const a = absoluteZero.seedTasks!(small, 1);
  assert.deepEqual(absoluteZero.seedTasks!(small, 1), a);
  assert.notDeepEqual(absoluteZero.seedTasks!(small, 2), a);
  for (const type of o.taskTypes) {
    const of = a.filter((t) => (t as WireTask).type === type);
    assert.equal(of.length, 20);
    assert.equal(new Set(of.map((t) => JSON.stringify(t))).size, 20);
    for (const t of of) {
      assert.ok(checkTask(t, o).ok);
      assert.equal((t as WireTask).difficulty, 1);
    }
  }
  assert.deepEqual(absoluteZero.seedTasks!({ ...small, options: { ...small.options, seedTasks: 0 } }, 1), []);
});
