import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseExperiment, type ExperimentConfig, type Sample } from '@spar/core';
import { loadHfPolicy, type TextCodec } from '@spar/policy';
import { tinyChatFixture, type TinyChatFixture, type TinyChatModel } from '@spar/testing/tiny-chat-model';
import { builtinRecipes, policyHandle, TaskRejected, vocabularyFor, type PolicyHandle } from '../src/index.ts';
import {
  absoluteZero, AZR_SYSTEM, checkTask, lexDsl, parseTaggedAnswer, parseTaggedDraft, readTextPrompt, rlvrFixed, textPlan, textSolverPrompt, valueDisplay,
  type AzrOptions, type RlvrOptions, type WireTask,
} from '../src/azr/index.ts';
import { heldOutSet, parseProgram, programText, type Task } from '../src/dsl/index.ts';
import { draftInputs } from '../src/azr/tasks.ts';

// absolute-zero's (and rlvr-fixed's) text mode on an imported chat model (warmStart.from: hf):
// AZR-style chat prompts, tagged programs / inputs / answers read back into DSL symbols, the
// judge re-reading every sample from its ids, and a real generation with a tiny model.
const registry = builtinRecipes();
// The tiny model's tokenizer is character-level: the prompts (with the DSL guide) need a long context.
const CONTEXT = 2048;
let fx: TinyChatFixture;
let tiny: TinyChatModel;
let codec: TextCodec;

before(async () => {
  fx = await tinyChatFixture('spar-azr-text-', { context: CONTEXT });
  ({ tiny, codec } = fx);
});
after(() => fx?.close());

const configFor = (recipe = 'absolute-zero', options: object = {}) => parseExperiment({
  name: 't', recipe, policy: { context: CONTEXT }, rollout: { groupSize: 4 },
  options: { textAnswerTokens: 40, ...(recipe === 'absolute-zero' ? { textProposeTokens: 200, seedTasks: 4 } : {}), ...options },
  warmStart: { from: 'hf', path: tiny.dir },
}, registry) as ExperimentConfig<AzrOptions>;

const imEnd = () => tiny.vocab.id('<|im_end|>');
const reply = (prompt: readonly number[], text: string, role: string, end = true): Sample => {
  const resp = [...codec.encode(text), ...(end ? [imEnd()] : [])];
  return { tokens: [...prompt, ...resp], promptLength: prompt.length, logprobs: resp.map(() => -1), allowed: resp.map(() => null), policyVersion: 2, role };
};
const wire = (type: Task['type'], program: string, inputs: number[][]): WireTask => {
  const c = checkTask({ type, program, inputs }, configFor().options);
  assert.ok(c.ok, c.ok ? '' : c.reason);
  return c.wire;
};
const taskOf = (w: WireTask): Task => {
  const c = checkTask(w, configFor().options);
  assert.ok(c.ok);
  return c.task;
};

describe('absolute-zero text mode: config', () => {
  test('warmStart.from: hf is accepted for absolute-zero and rlvr-fixed; the symbol defaults stay', () => {
    const c = configFor();
    assert.equal(c.warmStart?.from, 'hf');
    assert.equal(c.options.textProposeTokens, 200);
    assert.equal(configFor('rlvr-fixed').recipe, 'rlvr-fixed');
    assert.ok(absoluteZero.textMode && rlvrFixed.textMode);
    const plain = parseExperiment({ name: 't', recipe: 'absolute-zero' }, registry) as ExperimentConfig<AzrOptions>;
    assert.ok(!('textAnswerTokens' in plain.options) && !('textProposeTokens' in plain.options), 'no text options appear in a symbol-mode config');
  });
});

describe('absolute-zero text mode: formats', () => {
  test('DSL text lexes to the symbol mode\'s symbols; values display as written', () => {
    assert.deepEqual(lexDsl('map *2|filter gt5 | sum'), ['map', '*', '2', '|', 'filter', 'gt', '5', '|', 'sum']);
    assert.deepEqual(lexDsl('[3,1, 4]'), ['[', '3', ',', '1', ',', '4', ']']);
    assert.deepEqual(lexDsl('-12'), ['-', '1', '2']);
    assert.deepEqual(lexDsl('<in>'), ['<', 'in', '>'], 'a marker cannot be written in text');
    assert.equal(valueDisplay([3, 1, 4]), '[3, 1, 4]');
    assert.equal(valueDisplay(-72), '-72');
  });

  test('the answer is the last <answer>; the draft the last <program> and the <input>s after it', () => {
    assert.deepEqual(parseTaggedAnswer('<think>maybe <answer>1</answer></think> <answer> 12 </answer>'), ['1', '2']);
    assert.equal(parseTaggedAnswer('12'), undefined);
    assert.equal(parseTaggedAnswer('<answer>12'), undefined);
    assert.deepEqual(parseTaggedDraft('<program>sort</program><input>[1]</input> <program>map + 1</program> <input>[2, 3]</input>'), ['map', '+', '1', '<in>', '[', '2', ',', '3', ']']);
    assert.deepEqual(parseTaggedDraft('<program>sort</program>'), [], 'no input: a format failure');
    assert.deepEqual(parseTaggedDraft('<input>[1]</input>'), [], 'no program: a format failure');
    assert.deepEqual(parseTaggedDraft('<input>[1]</input><input>[2]</input>', 'sort'), ['sort', '<in>', '[', '1', ']', '<in>', '[', '2', ']'], 'a given program');
  });

  test('prompts: AZR\'s system prompt, the task as text through the chat template', () => {
    const t = taskOf(wire('deduction', 'map * 2 | sum', [[1, 2, 3]]));
    const text = codec.decode(textSolverPrompt(codec, t));
    assert.ok(text.startsWith(`<|im_start|>system\n${AZR_SYSTEM}<|im_end|>\n<|im_start|>user\n`), text);
    assert.match(text, /Program: map \* 2 \| sum\nInput: \[1, 2, 3\]\n/);
    assert.ok(text.endsWith('<|im_start|>assistant\n'));
    const ind = taskOf(wire('induction', 'sort', [[3, 1], [2], [5, 4, 1], [], [9, 8]]));
    const indText = codec.decode(textSolverPrompt(codec, ind));
    assert.match(indText, /<input>\[3, 1\]<\/input> <output>\[1, 3\]<\/output>\n<input>\[2\]<\/input>/);
    assert.ok(!indText.includes('[8, 9]'), 'held-out pairs are not shown');
  });
});

describe('absolute-zero text mode: the judge re-reads every sample from its ids', () => {
  const config = () => configFor();
  const judge = (task: unknown, rollouts: readonly unknown[], proposal?: Sample) => {
    const c = config();
    return absoluteZero.judge(task, rollouts, proposal, c.options, vocabularyFor(absoluteZero, c), c, undefined, codec);
  };
  const deduction = () => wire('deduction', 'map * 2 | sum', [[1, 2, 3]]);

  test('solver answers: correct 1, wrong −0.5, malformed −1 with formatOk false; formatErrorRate counts them', () => {
    const p = textSolverPrompt(codec, taskOf(deduction()));
    const answers = ['<think>6</think><answer>12</answer>', '<answer>13</answer>', 'twelve', '<answer>[12</answer>', '<answer>12</answer>']
      .map((t, i) => ({ index: i, sample: reply(p, t, 'solver', i !== 4) }));
    const g = judge(deduction(), answers);
    assert.deepEqual(g.trajectories.map((t) => [t.reward, t.formatOk, t.correct]), [[1, true, true], [-0.5, true, false], [-1, false, false], [-1, false, false], [-1, false, false]]);
    assert.ok(g.trajectories.every((t) => t.sample.allowed === undefined && t.segment === 'deduction/solver'));
    assert.equal(g.stats!.solveRate, 1 / 5);
    assert.equal(g.stats!.formatErrorRate, 3 / 5);
  });

  test('abduction and induction answers are checked by running the program', () => {
    const ab = wire('abduction', 'sum', [[4, 5]]);
    const pa = textSolverPrompt(codec, taskOf(ab));
    const g = judge(ab, ['<answer>[9]</answer>', '<answer>[1, 8]</answer>', '<answer>[2]</answer>'].map((t, i) => ({ index: i, sample: reply(pa, t, 'solver') })));
    assert.deepEqual(g.trajectories.map((t) => t.reward), [1, 1, -0.5]);
    const ind = wire('induction', 'sort', [[3, 1], [2], [5, 4, 1], [], [9, 8]]);
    const pi = textSolverPrompt(codec, taskOf(ind));
    const gi = judge(ind, ['<answer>sort</answer>', '<answer>sort | take 2</answer>', '<answer>sort |</answer>'].map((t, i) => ({ index: i, sample: reply(pi, t, 'solver') })));
    assert.deepEqual(gi.trajectories.map((t) => [t.reward, t.formatOk]), [[1, true], [-0.5, true], [-1, false]]);
  });

  test('a prompt that is not the task\'s, an id outside the model, an overlong reply: the group is rejected', () => {
    const p = textSolverPrompt(codec, taskOf(deduction()));
    const other = textSolverPrompt(codec, taskOf(wire('deduction', 'map * 2 | sum', [[1, 2, 4]])));
    assert.throws(() => judge(deduction(), [{ index: 0, sample: reply(other, '<answer>14</answer>', 'solver') }]), (e: Error) => e instanceof TaskRejected && /not the task's prompt/.test(e.message));
    const good = reply(p, '<answer>12</answer>', 'solver');
    const bad = { ...good, tokens: good.tokens.map((id, i) => (i === good.tokens.length - 2 ? codec.size : id)) };
    assert.throws(() => judge(deduction(), [{ index: 0, sample: bad }]), /outside the vocabulary/);
    assert.throws(() => judge(deduction(), [{ index: 0, sample: reply(p, '<think>' + 'x'.repeat(40) + '</think><answer>12</answer>', 'solver') }]), /exceeds 40/);
  });

  test('a proposal: its tagged draft must make the task; it earns the learnability reward', () => {
    const o = config().options;
    const refs = [taskOf(wire('deduction', 'sort | head', [[4, 2]]))];
    const { prompt, refs: shown } = textPlan(codec, 'deduction', refs, o, CONTEXT);
    assert.equal(shown.length, 1);
    const text = codec.decode(prompt);
    assert.match(text, /Task type: deduction\. /);
    assert.match(text, /Reference 1:\n<program>sort \| head<\/program>\n<input>\[4, 2\]<\/input> <output>2<\/output>/);
    assert.deepEqual(readTextPrompt(codec, reply(prompt, '', 'proposer')), { type: 'deduction' });
    const proposal = reply(prompt, '<think>double and add</think><program>map *2 | sum</program>\n<input>[1,2,3]</input>', 'proposer');
    const draft = { type: 'deduction', draft: parseTaggedDraft('<program>map *2 | sum</program>\n<input>[1,2,3]</input>') };
    const v = absoluteZero.validateTask(draft, o);
    assert.ok(v.valid);
    const p = textSolverPrompt(codec, taskOf(v.task as WireTask));
    const g = judge(v.task, ['<answer>12</answer>', '<answer>11</answer>'].map((t, i) => ({ index: i, sample: reply(p, t, 'solver') })), proposal);
    const pr = g.trajectories.find((t) => t.segment === 'deduction/proposer')!;
    assert.equal(pr.reward, 0.5);
    assert.equal(pr.sample.allowed, undefined);
    assert.equal(g.stats!.invalidProposal, 0);
    const other = reply(prompt, '<program>map * 3 | sum</program><input>[1, 2, 3]</input>', 'proposer');
    assert.throws(() => judge(v.task, [{ index: 0, sample: reply(p, '<answer>12</answer>', 'solver') }], other), /does not produce this task/);
  });

  test('an invalid proposal: −1; formatOk false when it does not parse, true when it fails to run; a valid one is refused here', () => {
    const o = config().options;
    const { prompt } = textPlan(codec, 'deduction', [], o, CONTEXT);
    const malformed = reply(prompt, 'I would write a sorting program.', 'proposer');
    const bad = { type: 'deduction', draft: parseTaggedDraft('I would write a sorting program.') };
    assert.equal(absoluteZero.validateTask(bad, o).valid, false);
    const g = judge(bad, [], malformed);
    assert.deepEqual(g.trajectories.map((t) => [t.reward, t.formatOk, t.segment]), [[-1, false, 'deduction/proposer']]);
    assert.equal(g.stats!.invalidProposal, 1);
    const fails = reply(prompt, '<program>sum | * 9 | * 9 | * 9 | * 9 | * 9</program><input>[9, 9, 9, 9, 9, 9, 9, 9]</input>', 'proposer');
    assert.deepEqual(judge({}, [], fails).trajectories.map((t) => [t.reward, t.formatOk]), [[-1, true]]);
    const valid = reply(prompt, '<program>sort</program><input>[2, 1]</input>', 'proposer');
    assert.throws(() => judge({}, [], valid), /the draft is valid/);
    const binary = configFor('absolute-zero', { rewardShaping: 'binary' });
    assert.equal(absoluteZero.judge(bad, [], malformed, binary.options, vocabularyFor(absoluteZero, binary), binary, undefined, codec).trajectories[0]!.reward, 0);
  });

  test('AZR-style induction: the prompt gives a program, the reply its inputs', () => {
    const o = config().options;
    const given = parseProgram(lexDsl('sort | reverse'));
    const { prompt } = textPlan(codec, 'induction', [], o, CONTEXT, given);
    const proposal = reply(prompt, '<input>[3, 1]</input><input>[2]</input><input>[5, 4, 1]</input><input>[]</input><input>[9, 8]</input>', 'proposer');
    assert.deepEqual(readTextPrompt(codec, proposal), { type: 'induction', given: 'sort | reverse' });
    const draft = parseTaggedDraft('<input>[3, 1]</input><input>[2]</input><input>[5, 4, 1]</input><input>[]</input><input>[9, 8]</input>', 'sort | reverse');
    const v = absoluteZero.validateTask({ type: 'induction', draft }, o);
    assert.ok(v.valid);
    const p = textSolverPrompt(codec, taskOf(v.task as WireTask));
    const g = judge(v.task, [{ index: 0, sample: reply(p, '<answer>sort | reverse</answer>', 'solver') }, { index: 1, sample: reply(p, '<answer>sort</answer>', 'solver') }], proposal);
    assert.equal(g.trajectories.find((t) => t.segment === 'induction/proposer')!.reward, 0.5);
  });

  test('rlvr-fixed judges its solvers the same way and ignores a proposal', () => {
    const c = configFor('rlvr-fixed') as unknown as ExperimentConfig<RlvrOptions>;
    const p = textSolverPrompt(codec, taskOf(deduction()));
    const g = rlvrFixed.judge(deduction(), [{ index: 0, sample: reply(p, '<answer>12</answer>', 'solver') }], undefined, c.options, vocabularyFor(rlvrFixed, c), c, undefined, codec);
    assert.deepEqual(g.trajectories.map((t) => t.reward), [1]);
  });
});

describe('absolute-zero text mode with a real model', () => {
  test('propose, validate, roll out, judge and evaluate through the chat prompts, never an error', async () => {
    const config = configFor('absolute-zero', { textAnswerTokens: 24, textProposeTokens: 48 });
    const { policy } = await loadHfPolicy(tiny.dir, { context: CONTEXT, worker: false });
    fx.policies.push(policy);
    const handle: PolicyHandle = policyHandle(vocabularyFor(absoluteZero, config), policy, codec);
    let s = 1;
    const rng = () => ((s = (s * 48271) % 2147483647) / 2147483647);
    const buffer = absoluteZero.seedTasks!(config, 3);
    const proposed = await absoluteZero.propose({ config, policy: handle, buffer, count: 6, rng });
    assert.equal(proposed.length, 6);
    for (const p of proposed) {
      assert.ok(codec.decode(p.proposal!.tokens).startsWith(`<|im_start|>system\n${AZR_SYSTEM}`));
      assert.ok(p.proposal!.tokens.length - p.proposal!.promptLength <= 48);
      const v = absoluteZero.validateTask(p.task, config.options);
      // The bigram model writes r-zero's tags, not these: its proposals are invalid, and judged so.
      if (!v.valid) {
        const g = absoluteZero.judge(p.task, [], p.proposal, config.options, vocabularyFor(absoluteZero, config), config, undefined, codec);
        assert.deepEqual(g.trajectories.map((t) => [t.reward, t.formatOk]), [[-1, false]]);
      }
    }
    const records = await absoluteZero.rollout({ config, policy: handle, rng }, buffer[0], 4);
    assert.equal(records.length, 4);
    const g = absoluteZero.judge(buffer[0], records, undefined, config.options, vocabularyFor(absoluteZero, config), config, undefined, codec);
    assert.equal(g.trajectories.length, 4);
    assert.ok(g.trajectories.every((t) => !t.formatOk && t.reward === -1), 'the bigram model never writes <answer>');
    assert.equal(g.stats!.formatErrorRate, 1);
    const report = await absoluteZero.evaluate(handle, ['dsl-deduction', 'dsl-induction'], { episodes: 3, seed: 5 }, config.options);
    assert.equal(report['dsl-deduction']!.count, 3);
    assert.equal(report['dsl-deduction']!.formatRate, 0);
    assert.equal(report['dsl-induction']!.accuracy, 0);
  });
});

describe('absolute-zero text mode: decontamination', () => {
  test('a text proposal that writes a held-out task is read into that task, and the held-out check (the judge sandbox\'s) flags it', () => {
    const config = configFor();
    const o = config.options;
    const heldOut = absoluteZero.heldOut!(config);
    const set = heldOutSet(config.eval.seed, Math.max(1, Math.ceil(config.eval.episodes / 3)));
    let flagged = 0;
    let written = 0;
    for (const t of set) {
      // As a model would write it: reasoning, then the program and its inputs in tags.
      const n = draftInputs(t.type, o);
      if (t.inputs.length < n) continue;
      const reply = `<think>a task</think> <program>${programText(t.program)}</program> ${t.inputs.slice(0, n).map((x) => `<input>${valueDisplay(x)}</input>`).join(' ')}`;
      const draft = { type: t.type, draft: parseTaggedDraft(reply) };
      const v = absoluteZero.validateTask(draft, o);
      if (!v.valid) continue;
      written++;
      if (heldOut.has(v.task)) flagged++;
      // The same program on an input outside the set poses another question (deduction): not flagged.
      if (t.type === 'deduction') {
        const other = { type: t.type, draft: parseTaggedDraft(`<program>${programText(t.program)}</program><input>${valueDisplay([9, 9, 9, 9, 9, 9, 9, 9])}</input>`) };
        const w = absoluteZero.validateTask(other, o);
        if (w.valid && !set.some((h) => h.type === 'deduction' && programText(h.program) === programText(t.program) && JSON.stringify(h.inputs[0]) === '[9,9,9,9,9,9,9,9]')) assert.equal(heldOut.has(w.task), false);
      }
    }
    assert.ok(written >= set.length / 2, `only ${written} of ${set.length} held-out tasks could be written as text proposals`);
    assert.equal(flagged, written, 'every held-out task written in text is flagged');
  });
});

describe('absolute-zero text mode: prompts must leave their budgets within the context (checked at submit)', () => {
  test('the solver\'s longest held-out prompt and the proposer\'s reference-free prompts, each with its budget', () => {
    const config = configFor('absolute-zero', { textAnswerTokens: 40, textProposeTokens: 200 });
    assert.deepEqual(absoluteZero.textPromptIssues!(config, codec, CONTEXT), []);
    const issues = absoluteZero.textPromptIssues!(config, codec, 600);
    assert.deepEqual(issues.map((i) => i.message.match(/longest (.*) prompt/)![1]), ['solver', 'proposer (before references)']);
    const rlvr = rlvrFixed.textPromptIssues!(configFor('rlvr-fixed') as unknown as ExperimentConfig<RlvrOptions>, codec, 600);
    assert.deepEqual(rlvr.map((i) => i.message.match(/longest (.*) prompt/)![1]), ['solver'], 'rlvr-fixed has no proposer prompt');
  });
});
