import assert from 'node:assert/strict';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseExperiment, ValidationError, type Sample } from '@spar/core';
import { CheckpointError, EOS_ID, HfTokenizerError, hfTextCodec, loadHfPolicy, loadHfTextModel, loadHfTokenizer, type HfTextModel, type TextCodec } from '@spar/policy';
import { tinyChatFixture, writeTinyChatModel, type TinyChatFixture, type TinyChatModel } from '@spar/testing/tiny-chat-model';
import { builtinRecipes, policyHandle, RecipeRegistry, spiralGames, TaskRejected, vocabularyFor, type PolicyHandle } from '../src/index.ts';
import {
  CHALLENGER_GROUP, judgeArith, parseBoxedAnswer, parseTaggedQuestion, rZero, SOLVER_SYSTEM, solverMessages, textChallengerPrompt, textSolverPrompt,
  type AnswerRecord, type ArithTask, type RZeroOptions,
} from '../src/arith/index.ts';

// r-zero's text mode on an imported chat model (warmStart.from: hf): the text codec of a
// Hugging Face tokenizer, the chat prompts, answers and questions read from decoded text, the
// judge re-reading every sample from its ids, and a real generation with a tiny model.
const registry = builtinRecipes();
let fx: TinyChatFixture;
let root: string;
let tiny: TinyChatModel;
let model: HfTextModel;
let codec: TextCodec;

before(async () => {
  fx = await tinyChatFixture('spar-arith-text-');
  ({ root, tiny, model, codec } = fx);
});
after(() => fx?.close());

const configFor = (dir: string, options: object = {}) => parseExperiment({
  name: 't', recipe: 'r-zero', policy: { context: 512 }, rollout: { groupSize: 4 },
  options: { textQuestionTokens: 16, textAnswerTokens: 12, informativeMin: 0, informativeMax: 1, ...options },
  warmStart: { from: 'hf', path: dir },
}, registry) as ReturnType<typeof parseExperiment> & { options: RZeroOptions };

describe('text codec of a Hugging Face tokenizer', () => {
  test('the model folder: shape from config.json at the default context, ids of its tokenizer, eos from generation_config.json', () => {
    assert.equal(model.modelType, 'qwen2');
    assert.equal(model.config.vocabSize, tiny.vocab.size);
    assert.equal(model.config.context, 512, 'min(max_position_embeddings, 1024)');
    assert.deepEqual(codec.eos, [EOS_ID, tiny.vocab.id('<|im_end|>')]);
    const text = 'Compute (12+7)*3. \\boxed{57}';
    assert.deepEqual([...codec.encode(text)], [...tiny.vocab.encode(text)], 'the tokenizer gives the vocabulary\'s ids');
    assert.equal(codec.decode(codec.encode(text)), text);
  });

  test('chat rendering: the template with the generation prompt, encoded without further special tokens', () => {
    const messages = solverMessages('2+3');
    const rendered = codec.renderChat(messages);
    assert.equal(rendered, `<|im_start|>system\n${SOLVER_SYSTEM}<|im_end|>\n<|im_start|>user\nCompute 2+3.<|im_end|>\n<|im_start|>assistant\n`);
    assert.equal(codec.renderChat(messages, { addGenerationPrompt: false }), rendered.slice(0, -'<|im_start|>assistant\n'.length));
    assert.deepEqual([...codec.encodeChat(messages)], [...tiny.vocab.encode(rendered)]);
    assert.deepEqual(textSolverPrompt(codec, '2+3'), [...codec.encodeChat(messages)]);
  });

  test('decode is total: an id with no token (an embedding padding row) gives U+FFFD; special tokens can be left out', async () => {
    const wide = hfTextCodec(await loadHfTokenizer(tiny.dir), tiny.vocab.size + 8);
    const a = tiny.vocab.id('7');
    assert.equal(wide.decode([a, tiny.vocab.size + 3, a]), '7\uFFFD7');
    assert.equal(codec.decode([tiny.vocab.id('<|im_start|>'), a]), '<|im_start|>7');
    assert.equal(codec.decode([tiny.vocab.id('<|im_start|>'), a], { skipSpecialTokens: true }), '7');
  });

  test('an unusable folder is refused with what is missing', async () => {
    await assert.rejects(loadHfTextModel(join(root, 'nope')), (e: Error) => e instanceof CheckpointError && /no such folder/.test(e.message));
    const noTok = await writeTinyChatModel(join(root, 'no-tokenizer'));
    await unlink(join(noTok.dir, 'tokenizer.json'));
    await assert.rejects(loadHfTextModel(noTok.dir), (e: Error) => e instanceof HfTokenizerError && /tokenizer\.json: missing/.test(e.message));
    const noWeights = await writeTinyChatModel(join(root, 'no-weights'));
    await unlink(join(noWeights.dir, 'model.safetensors'));
    await assert.rejects(loadHfTextModel(noWeights.dir), (e: Error) => e instanceof CheckpointError && /no weights/.test(e.message));
  });
});

describe('config with warmStart.from: hf', () => {
  const refused = (body: object) => {
    try {
      parseExperiment(body, registry);
    } catch (e) {
      assert.ok(e instanceof ValidationError);
      return e.issues;
    }
    assert.fail('accepted');
  };
  test('needs an absolute path; policy shape fields are refused; only recipes with a text mode', () => {
    assert.equal(configFor('/models/x').warmStart?.from, 'hf');
    assert.deepEqual(refused({ name: 't', recipe: 'r-zero', warmStart: { from: 'hf' } }).map((i) => i.path), ['/warmStart/path']);
    assert.match(refused({ name: 't', recipe: 'r-zero', warmStart: { from: 'hf', path: 'models/x' } })[0]!.message, /absolute path/);
    const shape = refused({ name: 't', recipe: 'r-zero', policy: { dModel: 64, layers: 2, context: 256, seed: 1 }, warmStart: { from: 'hf', path: '/m' } });
    assert.deepEqual(shape.map((i) => i.path).sort(), ['/policy/dModel', '/policy/layers']);
    assert.match(shape[0]!.message, /shape comes from \/m\/config\.json/);
    // Every built-in recipe has a text mode; a recipe without one is refused, naming those with one.
    const symbolsOnly = new RecipeRegistry([{ ...spiralGames, name: 'symbols-only', textMode: false }, rZero]);
    let issues: readonly { path: string; message: string }[] = [];
    try {
      parseExperiment({ name: 't', recipe: 'symbols-only', options: { constrainActions: 'none' }, rollout: { maxNewTokens: 1 }, warmStart: { from: 'hf', path: '/m' } }, symbolsOnly);
    } catch (e) {
      issues = (e as ValidationError).issues;
    }
    assert.deepEqual(issues.map((i) => i.path), ['/warmStart/from']);
    assert.match(issues[0]!.message, /symbols-only has no text mode.*recipes that can: r-zero\)/);
  });
});

describe('r-zero text mode: formats', () => {
  test('the question is the first tagged one, whitespace removed; the answer the last \\boxed{} integer', () => {
    assert.equal(parseTaggedQuestion('Sure! <question> (12 + 7) * 3 </question> ok'), '(12+7)*3');
    assert.equal(parseTaggedQuestion('<question>1+2</question><question>3*4</question>'), '1+2');
    assert.equal(parseTaggedQuestion('<question>1+2'), undefined);
    assert.equal(parseTaggedQuestion('1+2'), undefined);
    assert.equal(parseBoxedAnswer('so 3+4 = 7, \\boxed{7}', 10), '7');
    assert.equal(parseBoxedAnswer('\\boxed{5} no, \\boxed{ -12 }', 10), '-12');
    for (const bad of ['7', '\\boxed{07}', '\\boxed{7.0}', '\\boxed{x}', '\\boxed{7', '\\boxed{-0}', '\\boxed{12345}']) {
      assert.equal(parseBoxedAnswer(bad, 4), undefined, bad);
    }
  });
});

describe('r-zero text mode: the judge re-reads every sample from its ids', () => {
  const o = () => configFor(tiny.dir).options;
  const imEnd = () => tiny.vocab.id('<|im_end|>');
  const reply = (prompt: readonly number[], text: string, end = true, role = 'solver'): Sample => {
    const resp = [...codec.encode(text), ...(end ? [imEnd()] : [])];
    return { tokens: [...prompt, ...resp], promptLength: prompt.length, logprobs: resp.map(() => -1), allowed: resp.map(() => null), policyVersion: 3, role };
  };
  const task: ArithTask = { question: '3+5', references: [] };
  const judge = (rollouts: readonly unknown[], proposal?: Sample) => judgeArith(task, rollouts, proposal, o(), vocabularyFor(rZero, configFor(tiny.dir)), 512, codec);

  test('well-formed answers vote; a malformed one gets reward 0 and formatOk false; formatRate counts them', () => {
    const p = textSolverPrompt(codec, '3+5');
    const answers: AnswerRecord[] = [
      { sample: reply(p, 'it is \\boxed{8}') }, { sample: reply(p, '\\boxed{ 8 }') }, { sample: reply(p, '\\boxed{9}') },
      { sample: reply(p, 'eight') }, { sample: reply(p, '\\boxed{8}', false) },
    ];
    const g = judge(answers);
    assert.deepEqual(g.trajectories.map((t) => [t.reward, t.formatOk]), [[1, true], [1, true], [0, true], [0, false], [0, false]]);
    assert.ok(g.trajectories.every((t) => t.sample.allowed === undefined && t.group === '3+5' && t.segment === 'solver'));
    assert.equal(g.stats!.formatRate, 3 / 5);
    assert.equal(g.stats!.majorityFraction, 2 / 5);
    assert.equal(g.stats!.trueAccuracy, 2 / 5);
  });

  test('a prompt that is not the task\'s chat rendering, an id outside the model, an overlong reply: the group is rejected', () => {
    const p = textSolverPrompt(codec, '3+5');
    const other = textSolverPrompt(codec, '3+6');
    assert.throws(() => judge([{ sample: reply(other, '\\boxed{9}') }]), (e: Error) => e instanceof TaskRejected && /prompt does not match/.test(e.message));
    const good = reply(p, '\\boxed{8}');
    const bad = { ...good, tokens: good.tokens.map((id, i) => (i === good.tokens.length - 2 ? codec.size : id)) };
    assert.throws(() => judge([{ sample: bad }]), /outside the vocabulary/);
    assert.throws(() => judge([{ sample: reply(p, '\\boxed{8} because 3+5 is eight') }]), /exceeds 12/);
  });

  test('the challenger\'s proposal: its tagged question must be the task\'s', () => {
    const p = textSolverPrompt(codec, '3+5');
    const c = textChallengerPrompt(codec, o());
    const g = judge([{ sample: reply(p, '\\boxed{8}') }], reply(c, '<question>3 + 5</question>', true, 'challenger'));
    const ch = g.trajectories.find((t) => t.segment === 'challenger')!;
    assert.equal(ch.group, CHALLENGER_GROUP);
    assert.equal(ch.reward, 0, 'a unanimous vote: no uncertainty');
    assert.throws(() => judge([{ sample: reply(p, '\\boxed{8}') }], reply(c, '<question>3+6</question>', true, 'challenger')), /did not write this question/);
  });
});

describe('r-zero text mode with a real model', () => {
  test('propose, roll out, judge and evaluate through the chat prompts; samples decode to chat text', async () => {
    const config = configFor(tiny.dir);
    const { policy } = await loadHfPolicy(tiny.dir, { context: 512, worker: false });
    fx.policies.push(policy);
    const handle: PolicyHandle = policyHandle(vocabularyFor(rZero, config), policy, codec);
    let s = 1;
    const rng = () => ((s = (s * 48271) % 2147483647) / 2147483647);
    const proposed = await rZero.propose({ config, policy: handle, buffer: [], count: 40, rng });
    assert.equal(proposed.length, 40);
    const valid = proposed.filter((p) => rZero.validateTask(p.task, config.options).valid);
    assert.ok(valid.length > 0, 'the tiny model writes some valid tagged questions');
    const first = proposed[0]!.proposal!;
    assert.ok(codec.decode(first.tokens).startsWith('<|im_start|>system\nYou write arithmetic questions'), codec.decode(first.tokens));
    const v = rZero.validateTask(valid[0]!.task, config.options);
    const records = await rZero.rollout({ config, policy: handle, rng }, v.task, 8);
    assert.equal(records.length, 8);
    const g = rZero.judge(v.task, records, valid[0]!.proposal, config.options, vocabularyFor(rZero, config), config, undefined, codec);
    assert.equal(g.trajectories.filter((t) => t.segment === 'solver').length, 8, 'informativeMin 0: every answer trains');
    assert.ok(g.trajectories.every((t) => t.sample.tokens.every((id) => id < codec.size)));
    assert.ok(typeof g.stats!.formatRate === 'number');
    const report = await rZero.evaluate(handle, ['arith'], { episodes: 8, seed: 5 }, config.options);
    assert.equal(report.arith!.count, 8);
    assert.ok(report.arith!.formatRate! >= 0 && report.arith!.formatRate! <= 1);
  });
});
