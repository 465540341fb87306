import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { parseExperiment, type ExperimentConfig, type Sample } from '@spar/core';
import { BOS_ID, EOS_ID, Policy, type Vocabulary } from '@spar/policy';
import {
  absoluteZero, TaskRejected, checkTask, judgeInvalidProposal, learnability, rlvrFixed, solverReward, toWire, type AnswerRecord, type AzrOptions, type RlvrOptions, type WireTask,
} from '../src/azr/index.ts';
import {
  createRng, END, generateTask, MARK, parseDraft, renderAnswer, renderDraft, renderSolverPrompt, taskHash, type Task,
} from '../src/dsl/index.ts';
import { modelConfigFor, RecipeRegistry, vocabularyFor, type PolicyHandle } from '../src/index.ts';

const registry = new RecipeRegistry([absoluteZero, rlvrFixed]);
const policyCfg = { layers: 1, dModel: 32, heads: 2, context: 64 };
const azrConfig = parseExperiment({ name: 't', recipe: 'absolute-zero', policy: policyCfg }, registry) as ExperimentConfig<AzrOptions>;
const rlvrConfig = parseExperiment({ name: 't', recipe: 'rlvr-fixed', policy: policyCfg }, registry) as ExperimentConfig<RlvrOptions>;
const o = azrConfig.options;
const vocab = vocabularyFor(absoluteZero, azrConfig);
const policies: Policy[] = [];
after(async () => { await Promise.all(policies.map((p) => p.close())); });

async function handle(): Promise<PolicyHandle> {
  const p = await Policy.create(modelConfigFor(azrConfig, vocab), { worker: false });
  policies.push(p);
  return { vocab, get version() { return p.version; }, generate: (x, g) => p.generate(x, g), score: (s) => p.score(s) };
}

function seeded(seed: number): () => number {
  const r = createRng(seed);
  return () => r.next();
}

const ids = (v: Vocabulary, syms: readonly string[]) => syms.map((s) => v.id(s));

/** A solver record answering `syms` (END appended unless `end` is false). */
function answerRecord(task: Task, syms: readonly string[], index: number, end = true): AnswerRecord {
  const prompt = [BOS_ID, ...ids(vocab, renderSolverPrompt(task))];
  const response = [...ids(vocab, syms), ...(end ? [EOS_ID] : [])];
  return { index, sample: { tokens: [...prompt, ...response], promptLength: prompt.length, logprobs: response.map(() => -1), policyVersion: 0, role: 'solver' } };
}

/** The proposer sample that would have written `task` as a draft. */
function proposalFor(task: Task): Sample {
  const mark = { deduction: MARK.deduce, abduction: MARK.abduce, induction: MARK.induce }[task.type];
  const prompt = [BOS_ID, vocab.id(MARK.propose), vocab.id(mark), vocab.id(MARK.prog)];
  const response = [...ids(vocab, renderDraft(task)), EOS_ID];
  return { tokens: [...prompt, ...response], promptLength: prompt.length, logprobs: response.map(() => -2), policyVersion: 0, role: 'proposer' };
}

function validTask(type: Task['type'], seed: number): { task: Task; wire: WireTask } {
  const rng = createRng(seed);
  for (;;) {
    const c = checkTask(toWire(generateTask(rng, type, 1, { shown: o.solverShown, heldOut: o.heldOut })), o);
    if (c.ok) return { task: c.task, wire: c.wire };
  }
}

test('options: defaults from the schema, unknown keys rejected', () => {
  assert.deepEqual(o.taskTypes, ['deduction', 'abduction', 'induction']);
  assert.equal(o.references, 6);
  assert.equal(o.seedTasks, 64);
  assert.equal(o.copyPenalty, -1);
  assert.equal(o.replayShare, 0.25);
  assert.equal(o.rewardShaping, 'azr');
  assert.equal(o.constrain, true);
  assert.throws(() => parseExperiment({ name: 't', recipe: 'absolute-zero', options: { bogus: 1 } }, registry));
  assert.throws(() => parseExperiment({ name: 't', recipe: 'rlvr-fixed', options: { taskTypes: [] } }, registry));
  assert.deepEqual(absoluteZero.segments(o), ['deduction/proposer', 'deduction/solver', 'abduction/proposer', 'abduction/solver', 'induction/proposer', 'induction/solver']);
  assert.deepEqual(rlvrFixed.segments(rlvrConfig.options), ['deduction/solver', 'abduction/solver', 'induction/solver']);
  assert.deepEqual(absoluteZero.evalSuites({ ...o, taskTypes: ['induction'] }), ['dsl-induction']);
});

test('estimator: trr++ with decay takes one state slot per segment; numKeys needs decay', () => {
  const estimator = (e: object) => ({ name: 't', recipe: 'absolute-zero', policy: policyCfg, learner: { estimator: e } });
  const issues = (e: object) => registry.checkConfig({ ...azrConfig, learner: { ...azrConfig.learner, estimator: e } } as ExperimentConfig);
  assert.deepEqual(issues({ kind: 'trr++', decay: 0.9 }), []);
  assert.deepEqual(issues({ kind: 'trr++', decay: 0.9, numKeys: 8 }), []);
  assert.deepEqual(issues({ kind: 'trr++', decay: 0.9, numKeys: 5 }).map((i) => i.path), ['/learner/estimator/numKeys'], '6 segments need 6 slots');
  assert.deepEqual(issues({ kind: 'trr++', numKeys: 6 }).map((i) => i.path), ['/learner/estimator/numKeys'], 'numKeys without decay');
  assert.deepEqual(issues({ kind: 'grpo', decay: 0.9 }).map((i) => i.path), ['/learner/estimator/decay']);
  assert.equal(parseExperiment(estimator({ kind: 'trr++', decay: 0.9 }), registry).learner.estimator.decay, 0.9);
  assert.throws(() => parseExperiment(estimator({ kind: 'trr++', decay: 0.9, numKeys: 2 }), registry));
});

test('absolute-zero: masked proposals of an untrained policy always parse as drafts; invalid ones are not format errors', async () => {
  const policy = await handle();
  const refs = [validTask('deduction', 1).wire, validTask('induction', 2).wire, { garbage: true }];
  for (const references of [[], refs]) {
    const withRefs = new Set<string>();
    const out = await absoluteZero.propose({ config: azrConfig, policy, buffer: references, count: 24, rng: seeded(references.length) });
    assert.equal(out.length, 24);
    for (const { task, proposal } of out) {
      const t = task as { type: Task['type']; draft: string[] };
      const n = t.type === 'induction' ? o.solverShown + o.heldOut : 1;
      assert.equal(t.draft.at(-1), END);
      parseDraft(t.draft, { minInputs: n, maxInputs: n });
      assert.ok(proposal);
      assert.equal(proposal.role, 'proposer');
      // AZR-style induction: the prompt ends with a given program and <in>; the proposer writes the rest.
      const given = t.type === 'induction' ? t.draft.indexOf(MARK.in) + 1 : 0;
      if (t.type === 'induction') {
        assert.ok(given > 1);
        assert.deepEqual(proposal.tokens.slice(proposal.promptLength - given, proposal.promptLength), ids(vocab, t.draft.slice(0, given)));
      }
      assert.equal(proposal.tokens.length, proposal.promptLength + t.draft.length - given);
      assert.equal(proposal.logprobs.length, t.draft.length - given);
      assert.ok(proposal.tokens.length <= 64, 'prompt + draft fit the context');
      if (proposal.tokens.includes(vocab.id(MARK.ref))) withRefs.add(t.type);
      const v = absoluteZero.validateTask(task, o);
      if (v.valid) {
        const w = v.task as WireTask;
        assert.equal(w.outputs.length, w.inputs.length, 'the judge fills in the outputs');
        assert.ok(v.canonical?.startsWith(t.type));
      } else assert.match(v.reason!, /^(runtime|size|inputs)/, v.reason);
      // The judge replays the draft grammar with the proposer's budget: the same allowed sets.
      const rollouts = v.valid ? await absoluteZero.rollout({ config: azrConfig, policy, rng: seeded(5) }, v.task, 2) : [];
      const judged = absoluteZero.judge(v.valid ? v.task : task, rollouts, proposal, o, vocab, azrConfig);
      assert.deepEqual(judged.trajectories.find((x) => x.sample.role === 'proposer')!.sample.allowed, proposal.allowed);
    }
    // At context 64 an induction reference (5 pairs) leaves too little room for a draft.
    assert.ok(withRefs.has('deduction') && withRefs.has('abduction'), 'references (or seeds) are in the prompt');
  }
});

test('absolute-zero: with a larger context prompts carry up to K references drawn from the whole buffer, within the context', async () => {
  const config = parseExperiment({ name: 't', recipe: 'absolute-zero', options: { references: 2 }, policy: { ...policyCfg, context: 256 } }, registry) as ExperimentConfig<AzrOptions>;
  const p = await Policy.create(modelConfigFor(config, vocab), { worker: false });
  policies.push(p);
  const policy: PolicyHandle = { vocab, get version() { return p.version; }, generate: (x, g) => p.generate(x, g), score: (s) => p.score(s) };
  const buffer = absoluteZero.seedTasks!(config, 3);
  const out = await absoluteZero.propose({ config, policy, buffer, count: 9, rng: seeded(4) });
  const used = new Set<string>();
  for (const { task, proposal, shown } of out) {
    const refs = proposal!.tokens.slice(0, proposal!.promptLength).filter((id) => id === vocab.id(MARK.ref)).length;
    // Induction references are long: the second one is dropped when it would crowd out the draft.
    if ((task as { type: string }).type === 'induction') assert.ok(refs >= 1 && refs <= 2);
    else assert.equal(refs, 2);
    // The references shown are reported with the proposal (the copy check needs them), all of its type.
    assert.equal(shown!.length, refs);
    for (const r of shown!) {
      assert.equal((r as WireTask).type, (task as { type: string }).type);
      used.add(JSON.stringify(r));
    }
    assert.ok(proposal!.tokens.length <= 256);
    // The draft budget depends on policy.context; the judge takes it from the experiment.
    const v = absoluteZero.validateTask(task, config.options);
    const judged = absoluteZero.judge(v.valid ? v.task : task, v.valid ? await absoluteZero.rollout({ config, policy, rng: seeded(6) }, v.task, 1) : [], proposal, config.options, vocab, config);
    assert.deepEqual(judged.trajectories.find((x) => x.sample.role === 'proposer')!.sample.allowed, proposal!.allowed);
  }
  // Drawn from the whole buffer (64 per type), not its newest entries: 9 prompts see many distinct ones.
  assert.ok(used.size >= 10, `only ${used.size} distinct references`);
});

test('absolute-zero: unconstrained proposals may be malformed; validation reports them, never throws', async () => {
  const policy = await handle();
  const config = { ...azrConfig, options: { ...o, constrain: false } };
  const out = await absoluteZero.propose({ config, policy, buffer: [], count: 8, rng: seeded(3) });
  for (const { task } of out) {
    const v = absoluteZero.validateTask(task, config.options);
    assert.ok(v.valid || typeof v.reason === 'string');
  }
});

test('validateTask: rejects garbage, oversized and failing tasks with reasons; accepts good ones and recomputes outputs', () => {
  const bad: [unknown, RegExp, Partial<AzrOptions>?][] = [
    [null, /^format/], ['x', /^format/], [[1], /^format/], [{ type: 'chess', draft: [] }, /^format/],
    [{ type: 'deduction', draft: 'map * 2 <in> [ 1 ]' }, /^size/],
    [{ type: 'deduction', draft: new Array(1000).fill('1') }, /^size/],
    [{ type: 'deduction', draft: [{}] }, /^format/],
    [{ type: 'deduction', draft: ['map', '*', '2', '<in>', '[', '1', ']', '<in>', '[', ']'] }, /^format/],
    [{ type: 'deduction', program: 'map * 2 |', inputs: [[1]] }, /^format/],
    [{ type: 'deduction', program: 'x'.repeat(10_000), inputs: [[1]] }, /^format/],
    [{ type: 'deduction', program: 'sum', inputs: [[10]] }, /^inputs/],
    [{ type: 'deduction', program: 'sum', inputs: [[1], [2]] }, /^inputs/],
    [{ type: 'deduction', program: 'sum', inputs: 'nope' }, /^inputs/],
    [{ type: 'induction', program: 'sum', inputs: [[1], [1], [2], [3], [4]] }, /^inputs/],
    [{ type: 'induction', program: 'sum', inputs: [[1], [2]] }, /^inputs/],
    [{ type: 'deduction', program: 'map * 9 | map * 9 | map * 9 | map * 9 | map * 9 | map * 9', inputs: [[9]] }, /^runtime/],
    [{ type: 'deduction', program: 'sort | sum', inputs: [[1, 2, 3, 4, 5, 6, 7, 8]] }, /^runtime/, { fuel: 5 }],
    [{ type: 'deduction', program: 'map + 1 | map + 1 | map + 1 | map + 1 | map + 1 | map + 1 | map + 1 | map + 1', inputs: [[1]] }, /^size/],
    [{ type: 'deduction', program: 'map * 9', inputs: [[9, 9, 9, 9, 9, 9, 9, 9]] }, /^size: reference answer/],
    [{ type: 'induction', program: 'sort', inputs: [[1, 2, 3, 4, 5, 6, 7, 8], [8, 7, 6, 5, 4, 3, 2, 1], [9, 8, 7, 6, 5, 4, 3, 2], [1], [2]] }, /^size: solver prompt/],
  ];
  for (const [task, reason, extra] of bad) {
    const v = absoluteZero.validateTask(task, { ...o, ...extra });
    assert.equal(v.valid, false, JSON.stringify(task).slice(0, 80));
    assert.match(v.reason!, reason, `${JSON.stringify(task).slice(0, 80)} → ${v.reason}`);
  }
  assert.equal(absoluteZero.validateTask({ type: 'induction', program: 'sum', inputs: [[1]] }, { ...o, taskTypes: ['deduction'] }).valid, false);
  // Good: a draft, and a wire task whose claimed outputs are ignored.
  const draft = absoluteZero.validateTask({ type: 'deduction', draft: ['map', '*', '2', '|', 'sum', '<in>', '[', '1', ',', '2', ']', END] }, o);
  assert.deepEqual(draft, { valid: true, canonical: 'deduction <prog> map * 2 | sum <in> [ 1 , 2 ]', task: { type: 'deduction', program: 'map * 2 | sum', inputs: [[1, 2]], outputs: [6], shown: 1 } });
  const lying = absoluteZero.validateTask({ type: 'induction', program: 'reverse', inputs: [[1, 2], [3], [4, 5], [], [6, 7, 8]], outputs: [0, 0, 0, 0, 0], shown: 4, difficulty: 2 }, o);
  assert.equal(lying.valid, true);
  assert.deepEqual((lying.task as WireTask).outputs, [[2, 1], [3], [5, 4], [], [8, 7, 6]]);
  assert.equal((lying.task as WireTask).shown, o.solverShown, 'shown comes from the options, not the payload');
});

test('rollout + judge: masked answers parse; rewards follow the shaping; segments and groups', async () => {
  const policy = await handle();
  for (const type of ['deduction', 'abduction', 'induction'] as const) {
    const { task, wire } = validTask(type, 7);
    const rollouts = await absoluteZero.rollout({ config: azrConfig, policy, rng: seeded(1) }, wire, 8) as AnswerRecord[];
    assert.equal(rollouts.length, 8);
    const judged = absoluteZero.judge(wire, rollouts, undefined, o, vocab, azrConfig);
    assert.equal(judged.trajectories.length, 8);
    // The judge recomputes the allowed sets from the grammar: equal to what decoding used, and a
    // record claiming other sets (here: only its own token, log-prob 0) gets the grammar's.
    assert.deepEqual(judged.trajectories.map((t) => t.sample.allowed), rollouts.map((r) => r.sample.allowed));
    const forged = rollouts.map((r) => ({ ...r, sample: { ...r.sample, allowed: r.sample.allowed!.map((_, k) => [r.sample.tokens[r.sample.promptLength + k]!]) } }));
    assert.deepEqual(absoluteZero.judge(wire, forged, undefined, o, vocab, azrConfig).trajectories.map((t) => t.sample.allowed), judged.trajectories.map((t) => t.sample.allowed));
    assert.deepEqual(judged.provenance, { checker: 'spar-dsl', version: '1' });
    for (const t of judged.trajectories) {
      assert.equal(t.formatOk, true, 'the grammar mask keeps answers well-formed');
      assert.equal(t.reward, t.correct ? 1 : -0.5);
      assert.equal(t.segment, `${type}/solver`);
      assert.equal(t.group, taskHash(task));
      assert.ok(t.sample.tokens.length <= 64);
    }
    assert.ok(judged.stats!.solveRate! >= 0 && judged.stats!.solveRate! <= 1);
    assert.equal(judged.stats!.formatErrorRate, 0);
  }
});

test('judge: constructed groups give learnability 1 − rate, 0 (or −0.5 under azr) at rate 0 or 1', () => {
  const { task, wire } = validTask('deduction', 11);
  const right = renderAnswer(task);
  const wrong = ['-', '7', '7', '7'];
  const group = (k: number) => Array.from({ length: 8 }, (_, i) => answerRecord(task, i < k ? right : wrong, i));
  const cases: [number, number, number][] = [[3, 5 / 8, 5 / 8], [0, 0, -0.5], [8, 0, -0.5], [7, 1 / 8, 1 / 8]];
  for (const [k, r, azr] of cases) {
    for (const shaping of ['azr', 'binary'] as const) {
      const judged = absoluteZero.judge(wire, group(k), proposalFor(task), { ...o, rewardShaping: shaping }, vocab, azrConfig);
      const prop = judged.trajectories.filter((t) => t.sample.role === 'proposer');
      assert.equal(prop.length, 1);
      assert.equal(prop[0]!.segment, 'deduction/proposer');
      assert.equal(prop[0]!.group, `${taskHash(task)}/proposer`);
      assert.equal(prop[0]!.reward, shaping === 'azr' ? azr : r, `${k}/8 ${shaping}`);
      assert.equal(judged.stats!.solveRate, k / 8);
      assert.equal(judged.stats!.learnability, learnability(k / 8));
      const solvers = judged.trajectories.filter((t) => t.sample.role === 'solver');
      assert.deepEqual(solvers.map((t) => t.reward), group(k).map((_, i) => (i < k ? 1 : shaping === 'azr' ? -0.5 : 0)));
    }
  }
  // Format errors: −1 under azr, 0 under binary; counted separately.
  const fmt = [answerRecord(task, right, 0, false), answerRecord(task, ['[', ','], 1), answerRecord(task, [MARK.in], 2), answerRecord(task, right, 3)];
  // (Only unconstrained decoding writes them; under the grammar such a record is rejected.)
  const free = { ...o, constrain: false };
  const judged = absoluteZero.judge(wire, fmt, undefined, free, vocab, azrConfig);
  assert.deepEqual(judged.trajectories.map((t) => [t.formatOk, t.correct, t.reward]), [[false, false, -1], [false, false, -1], [false, false, -1], [true, true, 1]]);
  assert.equal(judged.stats!.formatErrorRate, 3 / 4);
  assert.equal(absoluteZero.judge(wire, fmt, undefined, { ...free, rewardShaping: 'binary' }, vocab, azrConfig).trajectories[0]!.reward, 0);
  assert.throws(() => absoluteZero.judge(wire, fmt, undefined, o, vocab, azrConfig), /answer 1: response token 1 is outside the grammar/);
  // rlvr-fixed ignores a proposal in the payload.
  assert.equal(rlvrFixed.judge(wire, group(3), proposalFor(task), rlvrConfig.options, vocab, rlvrConfig).trajectories.length, 8);
});

test('judge: never trusts the payload — outputs are recomputed, tampered prompts and proposals are rejected', () => {
  const { task, wire } = validTask('deduction', 12);
  const wrong = ['-', '7', '7', '7'];
  // The payload claims the wrong answer is the output: the judge re-runs the program.
  const lying = { ...wire, outputs: [-777] };
  const judged = absoluteZero.judge(lying, [answerRecord(task, wrong, 0), { ...answerRecord(task, wrong, 1), correct: true } as AnswerRecord], undefined, o, vocab, azrConfig);
  assert.deepEqual(judged.trajectories.map((t) => t.correct), [false, false]);
  assert.equal(Object.hasOwn(judged.trajectories[1]!.sample, 'correct'), false);
  // A prompt that is not the task's prompt.
  const bad = answerRecord(task, wrong, 0);
  (bad.sample.tokens as number[])[3] = vocab.id('7') === bad.sample.tokens[3] ? vocab.id('8') : vocab.id('7');
  assert.throws(() => absoluteZero.judge(wire, [bad], undefined, o, vocab, azrConfig), TaskRejected);
  // Logprobs that do not match, token ids out of range, an invalid task.
  const lp = answerRecord(task, wrong, 0);
  (lp.sample.logprobs as number[]).pop();
  assert.throws(() => absoluteZero.judge(wire, [lp], undefined, o, vocab, azrConfig), TaskRejected);
  const oob = answerRecord(task, wrong, 0);
  (oob.sample.tokens as number[]).push(10_000);
  (oob.sample.logprobs as number[]).push(0);
  assert.throws(() => absoluteZero.judge(wire, [oob], undefined, o, vocab, azrConfig), TaskRejected);
  assert.throws(() => absoluteZero.judge({ ...wire, program: 'map * 2 |' }, [answerRecord(task, wrong, 0)], undefined, o, vocab, azrConfig), TaskRejected);
  assert.throws(() => absoluteZero.judge(wire, [], undefined, o, vocab, azrConfig), TaskRejected);
  // A proposal whose draft is another task.
  const other = validTask('deduction', 13).task;
  assert.throws(() => absoluteZero.judge(wire, [answerRecord(task, wrong, 0)], proposalFor(other), o, vocab, azrConfig), /draft does not produce this task/);
  const retyped = proposalFor(task);
  (retyped.tokens as number[])[2] = vocab.id(MARK.abduce);
  assert.throws(() => absoluteZero.judge(wire, [answerRecord(task, wrong, 0)], retyped, o, vocab, azrConfig), /another task type/);
});

test('held-out evaluation is deterministic, in [0, 1], and reports every enabled suite', async () => {
  const policy = await handle();
  const suites = absoluteZero.evalSuites(o);
  assert.deepEqual(suites, ['dsl-deduction', 'dsl-abduction', 'dsl-induction']);
  const a = await absoluteZero.evaluate(policy, suites, { episodes: 6, seed: 5 }, o);
  const b = await rlvrFixed.evaluate(policy, suites, { episodes: 6, seed: 5 }, rlvrConfig.options);
  assert.deepEqual(a, b);
  for (const s of suites) {
    const r = a[s]!;
    assert.equal(r.count, 6);
    for (const k of ['accuracy', 'formatRate', 'accuracyD1', 'accuracyD2', 'accuracyD3']) assert.ok(r[k]! >= 0 && r[k]! <= 1, `${s} ${k}`);
    assert.equal(r.formatRate, r.count! > r.tooLong! ? 1 : 0, 'masked greedy answers are always formatted');
  }
});

test('rlvr-fixed: proposals are valid generator tasks without proposer samples', async () => {
  const out = await rlvrFixed.propose({ config: rlvrConfig, buffer: [], count: 20, rng: seeded(9) });
  assert.equal(out.length, 20);
  const types = new Set<string>();
  for (const p of out) {
    assert.equal(p.proposal, undefined);
    const v = rlvrFixed.validateTask(p.task, rlvrConfig.options);
    assert.equal(v.valid, true, v.reason);
    assert.deepEqual(v.task, p.task);
    const w = p.task as WireTask;
    assert.ok([1, 2, 3].includes(w.difficulty!));
    types.add(w.type);
  }
  assert.equal(types.size, 3);
  assert.equal(rlvrFixed.proposesWithPolicy, false);
  assert.equal(absoluteZero.proposesWithPolicy, true);
});

test('unconstrained decoding: format failures are scored separately (−1) and counted', async () => {
  const policy = await handle();
  const opts = { ...o, constrain: false };
  const config = { ...azrConfig, options: opts };
  const { wire } = validTask('abduction', 21);
  const rollouts = await absoluteZero.rollout({ config, policy, rng: seeded(2) }, wire, 16);
  const judged = absoluteZero.judge(wire, rollouts, undefined, opts, vocab, config);
  const bad = judged.trajectories.filter((t) => !t.formatOk);
  assert.ok(bad.length > 0, 'an untrained policy without the mask writes malformed answers');
  for (const t of bad) assert.equal(t.reward, -1);
  assert.equal(judged.stats!.formatErrorRate, bad.length / 16);
});

test('invalid proposals: −1 for an invalid draft (directly and as a group without rollouts), a valid one refused', () => {
  const { task } = validTask('deduction', 31);
  assert.ok(absoluteZero.trainsInvalidProposals);
  assert.throws(() => judgeInvalidProposal(proposalFor(task), o, vocab, 64), TaskRejected);
  assert.throws(() => absoluteZero.judge(task, [], proposalFor(task), o, vocab, azrConfig), TaskRejected, 'a valid draft is judged with its solver group');
  const dup = { ...task, type: 'induction' as const, inputs: [[1], [1], [2], [3], [4]], shown: 3 };
  const g = judgeInvalidProposal(proposalFor(dup), o, vocab, 64);
  assert.deepEqual(g.trajectories.map((t) => [t.reward, t.formatOk, t.segment]), [[-1, true, 'induction/proposer']]);
  const viaJudge = absoluteZero.judge(dup, [], proposalFor(dup), o, vocab, azrConfig);
  assert.deepEqual(viaJudge.trajectories.map((t) => [t.reward, t.correct, t.sample.role]), [[-1, false, 'proposer']]);
  assert.equal(viaJudge.stats!.invalidProposal, 1);
  assert.equal(viaJudge.provenance.checker, g.provenance.checker);
  assert.equal(rlvrFixed.trainsInvalidProposals, undefined, 'rlvr-fixed has no proposer to train');
  const garbled = proposalFor(task);
  (garbled.tokens as number[]).splice(garbled.promptLength, 1);
  (garbled.logprobs as number[]).pop();
  assert.equal(judgeInvalidProposal(garbled, { ...o, rewardShaping: 'binary', constrain: false }, vocab, 64).trajectories[0]!.reward, 0);
  assert.throws(() => judgeInvalidProposal(garbled, o, vocab, 64), /outside the grammar/, 'under constrained decoding a garbled draft was not decoded by this grammar');
});

test('solver reward shaping: azr, binary, partial (exact answers still the only 1)', () => {
  const wrong = { formatOk: true, correct: false, similarity: 0.5 };
  assert.deepEqual(['azr', 'binary', 'partial'].map((k) => solverReward(wrong, k as AzrOptions['rewardShaping'])), [-0.5, 0, -0.25]);
  for (const k of ['azr', 'binary', 'partial'] as const) assert.equal(solverReward({ formatOk: true, correct: true, similarity: 1 }, k), 1);
  assert.equal(solverReward({ formatOk: false, correct: false }, 'partial'), -1);
  assert.equal(solverReward({ formatOk: true, correct: false, similarity: 0.999 }, 'partial') < 0, true, 'a near miss stays below a right answer');
});
