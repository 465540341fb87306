import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { parseExperiment, ValidationError, type Sample } from '@spar/core';
import { BOS_ID, EOS_ID, Policy } from '@spar/policy';
import { seededRng } from '../src/games/index.ts';
import { modelConfigFor, RecipeRegistry, vocabularyFor, type PolicyHandle } from '../src/index.ts';
import {
  advance, allowedNext, checkQuestion, answerState, ArithError, TaskRejected, bin, BudgetError, CHALLENGER_GROUP, DisallowedSymbolError, END,
  evaluate, grammarMask, heldOutSet, lexemes, majorityVote, MASK_LITERAL_DIGITS, num, operatorCount, parenDepth, parseAnswer,
  parseExpr, printExpr, questionState, randomExpression, repetition, rZero, sentenceBleu, solverPrompt, uncertaintyReward,
  VALUE_BOUND, type AnswerRecord, type ArithTask, type Expr, type GrammarState, type RZeroOptions,
} from '../src/arith/index.ts';

const registry = new RecipeRegistry([rZero]);
const config = parseExperiment({
  name: 't', recipe: 'r-zero', options: {}, policy: { layers: 1, dModel: 32, heads: 2, context: 64 }, rollout: { groupSize: 4 },
}, registry) as ReturnType<typeof parseExperiment> & { options: RZeroOptions };
const o = config.options;
const vocab = vocabularyFor(rZero, config);
const policies: Policy[] = [];
after(async () => { await Promise.all(policies.map((p) => p.close())); });

async function handle(): Promise<PolicyHandle> {
  const p = await Policy.create(modelConfigFor(config, vocab), { worker: false });
  policies.push(p);
  return { vocab, get version() { return p.version; }, generate: (x, g) => p.generate(x, g), score: (s) => p.score(s) };
}

/** Independent oracle: BigInt evaluation, undefined when any node leaves the bound. */
function oracle(e: Expr): bigint | undefined {
  if (e.k === 'num') return BigInt(e.v);
  const a = oracle(e.l);
  const b = oracle(e.r);
  if (a === undefined || b === undefined) return undefined;
  const v = e.op === '+' ? a + b : e.op === '-' ? a - b : a * b;
  const bound = BigInt(VALUE_BOUND);
  return v > bound || v < -bound ? undefined : v;
}

function randomTree(rng: () => number, ops: number): Expr {
  if (ops === 0) {
    const digits = 1 + Math.floor(rng() * 4);
    return num(digits === 1 ? Math.floor(rng() * 10) : Math.floor(10 ** (digits - 1) + rng() * 9 * 10 ** (digits - 1)));
  }
  const left = Math.floor(rng() * ops);
  return bin((['+', '-', '*'] as const)[Math.floor(rng() * 3)]!, randomTree(rng, left), randomTree(rng, ops - 1 - left));
}

/** The same tree written with extra, redundant parentheses. */
function noisyPrint(e: Expr, rng: () => number): string {
  const s = e.k === 'num' ? String(e.v) : `(${noisyPrint(e.l, rng)}${e.op}${noisyPrint(e.r, rng)})`;
  return rng() < 0.2 ? `(${s})` : s;
}

describe('expressions', () => {
  test('property: parse ∘ print is the identity on trees; print is canonical; evaluate matches a BigInt oracle', () => {
    const rng = seededRng(7);
    for (let k = 0; k < 2000; k++) {
      const e = randomTree(rng, Math.floor(rng() * 9));
      const text = printExpr(e);
      const lim = { maxTokens: 1024, maxDepth: 1024 };
      assert.deepEqual(parseExpr(text, lim), e, text);
      assert.equal(printExpr(parseExpr(noisyPrint(e, rng), lim)), text);
      const want = oracle(e);
      if (want === undefined) assert.throws(() => evaluate(e), (err: unknown) => err instanceof ArithError && err.code === 'out_of_bounds', text);
      else assert.equal(BigInt(evaluate(e)), want, text);
    }
  });

  test('precedence, associativity and minimal parentheses', () => {
    const cases: [string, string, number][] = [
      ['1+2*3', '1+2*3', 7], ['(1+2)*3', '(1+2)*3', 9], ['2-(3-4)', '2-(3-4)', 3], ['(2-3)-4', '2-3-4', -5],
      ['((2+3))+4', '2+3+4', 9], ['2*(3*4)', '2*(3*4)', 24], ['0*5-7', '0*5-7', -7], ['10-2*3*(4+1)', '10-2*3*(4+1)', -20],
    ];
    for (const [text, canon, value] of cases) {
      const e = parseExpr(text);
      assert.equal(printExpr(e), canon);
      assert.equal(evaluate(e), value);
    }
    assert.equal(operatorCount(parseExpr('(1+2)*3')), 2);
    assert.equal(parenDepth('((1+2))*3'), 2);
  });

  test('bounds: literals and intermediates beyond ±10^9 are out of bounds', () => {
    assert.equal(evaluate(parseExpr('1000000000')), VALUE_BOUND);
    assert.equal(evaluate(parseExpr('0-1000000000')), -VALUE_BOUND);
    for (const bad of ['1000000001', '12345678901234567890', '99999*99999', '1000000000+1', '0-1000000000-1', '40000*30000-5']) {
      assert.throws(() => evaluate(parseExpr(bad)), (err: unknown) => err instanceof ArithError && err.code === 'out_of_bounds', bad);
    }
  });

  test('deep nesting and huge inputs are rejected fast, without recursion blow-up', () => {
    const t0 = performance.now();
    assert.throws(() => parseExpr('('.repeat(10_000)), (e: unknown) => e instanceof ArithError && e.code === 'too_long');
    assert.throws(() => parseExpr('1+'.repeat(100_000) + '1'), (e: unknown) => e instanceof ArithError && e.code === 'too_long');
    // Within a generous length limit, depth still stops the descent.
    assert.throws(() => parseExpr(`${'('.repeat(500)}1${')'.repeat(500)}`, { maxTokens: 1024, maxDepth: 16 }), (e: unknown) => e instanceof ArithError && e.code === 'too_deep');
    assert.throws(() => parseExpr('('.repeat(100_000), { maxTokens: 10 ** 9, maxDepth: 10 ** 9 }), ArithError);
    assert.ok(performance.now() - t0 < 200, 'rejections are cheap');
  });

  test('garbage is a syntax error with a position, never a crash', () => {
    for (const bad of ['', 'abc', '1+', '+1', '()', '1 + 2', '(1+2', '1+2)', '--1', '1**2', '1(2)', '(1)2', '1+<q>', '٣+1']) {
      assert.throws(() => parseExpr(bad), (e: unknown) => e instanceof ArithError && (e.code === 'syntax' || e.code === 'bad_literal'), JSON.stringify(bad));
    }
    assert.throws(() => parseExpr('01+2'), (e: unknown) => e instanceof ArithError && e.code === 'bad_literal');
    assert.throws(() => parseExpr(42 as unknown as string), ArithError);
  });

  test('answers: canonical integers only', () => {
    for (const ok of ['0', '7', '-7', '1000000000', '-123']) assert.equal(parseAnswer(ok), ok);
    for (const bad of ['', '-', '-0', '007', '+3', '1.5', ' 3', '3 ', '12345678901', 'x']) assert.equal(parseAnswer(bad), undefined, bad);
    assert.equal(parseAnswer('123', 2), undefined);
  });
});

describe('grammar masks', () => {
  function walk(st: GrammarState, rng: () => number): { text: string; steps: number } {
    let text = '';
    for (let steps = 1; ; steps++) {
      const allowed = [...allowedNext(st)];
      assert.ok(allowed.length > 0, `stuck after ${JSON.stringify(text)}`);
      const s = allowed[Math.floor(rng() * allowed.length)]!;
      if (s === END) return { text, steps };
      st = advance(st, s);
      text += s;
    }
  }

  test('every question walk ends within budget and parses under the same limits', () => {
    const rng = seededRng(11);
    for (let k = 0; k < 3000; k++) {
      const maxTokens = 3 + Math.floor(rng() * 30);
      const maxDepth = Math.floor(rng() * 5);
      const { text, steps } = walk(questionState({ maxTokens, maxDepth }), rng);
      assert.ok(steps <= maxTokens + 1 && text.length <= maxTokens, text);
      const e = parseExpr(text, { maxTokens, maxDepth });
      assert.ok(operatorCount(e) >= 1, text);
      assert.ok(parenDepth(text) <= maxDepth, text);
      assert.ok(text.split(/[^0-9]+/).every((lit) => lit.length <= MASK_LITERAL_DIGITS), text);
    }
  });

  test('maxOperators and maxLiteralDigits bound every walk, and checkQuestion refuses what exceeds them', () => {
    const rng = seededRng(13);
    for (let k = 0; k < 2000; k++) {
      const maxOperators = 1 + Math.floor(rng() * 3);
      const maxLiteralDigits = 1 + Math.floor(rng() * 3);
      const { text } = walk(questionState({ maxTokens: 24, maxDepth: 2, maxOperators, maxLiteralDigits }), rng);
      const e = parseExpr(text, { maxTokens: 24, maxDepth: 2 });
      assert.ok(operatorCount(e) >= 1 && operatorCount(e) <= maxOperators, `${text} (≤ ${maxOperators} operators)`);
      assert.ok(text.split(/[^0-9]+/).every((lit) => lit.length <= maxLiteralDigits), `${text} (literals ≤ ${maxLiteralDigits} digits)`);
    }
    const st = advance(advance(advance(questionState({ maxOperators: 1 }), '1'), '+'), '2');
    assert.ok(!allowedNext(st).has('+') && allowedNext(st).has(END), 'one operator written: no second');
    const limited = { ...o, maxOperators: 2, maxLiteralDigits: 2 };
    assert.equal(checkQuestion('12*(3+4)', limited).operators, 2);
    assert.throws(() => checkQuestion('1+2+3+4', limited), /too_many_operators/);
    assert.throws(() => checkQuestion('123+4', limited), /literal_too_long/);
    assert.equal(checkQuestion('123+4+5', o).operators, 2, 'no limits by default');
    // operators: the mask offers only those, validation refuses the others.
    for (let k = 0; k < 500; k++) {
      const { text } = walk(questionState({ maxTokens: 12, maxDepth: 1, operators: ['+', '-'] }), rng);
      assert.ok(!text.includes('*'), text);
    }
    assert.throws(() => checkQuestion('3*4', { ...o, operators: ['+', '-'] }), /operator_not_allowed/);
    assert.equal(checkQuestion('3-4', { ...o, operators: ['+', '-'] }).operators, 1);
  });

  test('every answer walk is a canonical integer within maxDigits', () => {
    const rng = seededRng(12);
    for (let k = 0; k < 2000; k++) {
      const maxDigits = 1 + Math.floor(rng() * 10);
      const { text } = walk(answerState({ maxDigits }), rng);
      assert.equal(parseAnswer(text, maxDigits), text);
    }
  });

  test('disallowed symbols and impossible budgets throw typed errors', () => {
    assert.throws(() => advance(questionState(), '+'), DisallowedSymbolError);
    assert.throws(() => advance(questionState(), END), DisallowedSymbolError);
    assert.throws(() => advance(answerState(), '+'), DisallowedSymbolError);
    assert.throws(() => questionState({ maxTokens: 2 }), BudgetError);
    // Depth 0: no parentheses offered.
    assert.ok(!allowedNext(questionState({ maxDepth: 0 })).has('('));
    // A tight budget still completes: "1" leaves exactly room for "+1".
    let st = advance(questionState({ maxTokens: 3 }), '1');
    assert.deepEqual([...allowedNext(st)].sort(), ['*', '+', '-']);
    st = advance(advance(st, '+'), '2');
    assert.deepEqual([...allowedNext(st)], [END]);
  });

  test('grammarMask drives token ids and keeps per-row state', () => {
    const mask = grammarMask(vocab, () => answerState({ maxDigits: 2 }));
    const ids = (m: ArrayLike<number>) => Array.from(m).flatMap((v, i) => (v ? [i] : []));
    const first = ids(mask(0, [])!);
    assert.ok(first.includes(vocab.id('-')) && !first.includes(EOS_ID));
    assert.deepEqual(ids(mask(1, [vocab.id('-')])!), ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => vocab.id(d)));
    assert.deepEqual(ids(mask(0, [vocab.id('0')])!), [EOS_ID]);
  });
});

describe('rewards', () => {
  test('majority vote: pseudo-label, p̂ over all G, ties to the numerically smallest, order independent', () => {
    assert.deepEqual(majorityVote(['3', '3', '5', undefined]), { label: '3', votes: 2, total: 4, p: 0.5 });
    const tie = ['5', '-2', '5', '-2', '10'];
    for (let k = 0; k < 10; k++) {
      const shuffled = [...tie].sort(() => seededRng(k)() - 0.5);
      assert.equal(majorityVote(shuffled).label, '-2');
    }
    assert.equal(majorityVote(['10', '9']).label, '9', 'numeric, not lexicographic');
    assert.deepEqual(majorityVote([undefined, undefined]), { label: undefined, votes: 0, total: 2, p: 0 });
    assert.deepEqual(majorityVote([]), { label: undefined, votes: 0, total: 0, p: 0 });
  });

  test('uncertainty reward 1 − 2|p̂ − ½|', () => {
    assert.equal(uncertaintyReward(0.5), 1);
    assert.equal(uncertaintyReward(1), 0);
    assert.equal(uncertaintyReward(0), 0);
    assert.equal(uncertaintyReward(0.25), 0.5);
    assert.equal(uncertaintyReward(0.75), 0.5);
  });

  test('repetition: BLEU near-duplicates among references', () => {
    assert.deepEqual(lexemes('12*(3+45)'), ['12', '*', '(', '3', '+', '45', ')']);
    assert.equal(sentenceBleu(lexemes('12*(3+4)-5'), lexemes('12*(3+4)-5')), 1);
    assert.equal(sentenceBleu(lexemes('1+2'), lexemes('7*8')), 0);
    assert.ok(Math.abs(sentenceBleu(lexemes('3+4'), lexemes('3+5')) - 0.2403) < 1e-3, 'NLTK method1 value');
    assert.equal(repetition('12*(3+4)-6', []).fraction, 0);
    assert.equal(repetition('12*(3+4)-6', ['12*(3+4)-6']).fraction, 1);
    const r = repetition('12*(3+4)-6', ['12*(3+4)-5', '7*8', '1+1', '99-(2*3)']);
    assert.deepEqual(r, { fraction: 0.25, nearDuplicates: 1, references: 4 });
    assert.equal(repetition('3+4', ['3+5', '3*4']).fraction, 0, 'short, different questions are not duplicates');
  });
});

/** A solver sample for `question` answering `text` (ending with <eos> unless told otherwise). */
function answerSample(question: string, text: string, end = true): AnswerRecord {
  const prompt = solverPrompt(vocab, question);
  const resp = [...vocab.encode(text), ...(end ? [EOS_ID] : [])];
  return { sample: { tokens: [...prompt, ...resp], promptLength: prompt.length, logprobs: resp.map(() => -1), policyVersion: 0, role: 'solver' } };
}

function proposalSample(text: string): Sample {
  const prompt = [BOS_ID, vocab.id('<challenge>')];
  const resp = [...vocab.encode(text), EOS_ID];
  return { tokens: [...prompt, ...resp], promptLength: 2, logprobs: resp.map(() => -1), policyVersion: 0, role: 'challenger' };
}

describe('judge', () => {
  /** Unconstrained decoding: the only way a solver writes a malformed answer. */
  const free = { ...o, constrain: false, informativeMin: 0, informativeMax: 1 };
  test('rewards follow the majority even when it is wrong; the true answer is only measured', () => {
    // 2+2 = 4, but the majority says 5. A planted, wrong trueAnswer in the task is ignored too.
    const task: ArithTask = { question: '2+2', references: [], trueAnswer: '5' };
    const rollouts = [answerSample('2+2', '5'), answerSample('2+2', '5'), answerSample('2+2', '4'), answerSample('2+2', '5'), answerSample('2+2', '', true)];
    const j = rZero.judge(task, rollouts, proposalSample('(2+2)'), free, vocab, config);
    const solver = j.trajectories.filter((t) => t.segment === 'solver');
    assert.deepEqual(solver.map((t) => t.reward), [1, 1, 0, 1, 0]);
    assert.deepEqual(solver.map((t) => t.formatOk), [true, true, true, true, false]);
    assert.ok(solver.every((t) => t.group === '2+2' && t.sample.role === 'solver'));
    assert.equal(j.stats!.majorityFraction, 3 / 5);
    assert.equal(j.stats!.pseudoLabelAccuracy, 0);
    assert.equal(j.stats!.trueAccuracy, 1 / 5);
    assert.equal(j.stats!.formatRate, 4 / 5);
    const ch = j.trajectories.filter((t) => t.segment === 'challenger');
    assert.equal(ch.length, 1);
    assert.ok(Math.abs(ch[0]!.reward - (1 - 2 * Math.abs(0.6 - 0.5))) < 1e-12);
    assert.equal(ch[0]!.group, CHALLENGER_GROUP);
    assert.deepEqual(j.provenance, { checker: 'spar-arith-majority', version: '1' });
  });

  test('a correct majority gives pseudoLabelAccuracy 1; unanimous groups pay the challenger 0', () => {
    const rollouts = [1, 2, 3, 4].map(() => answerSample('3*(1+1)', '6'));
    const j = rZero.judge({ question: '3*(1+1)', references: [] }, rollouts, proposalSample('3*(1+1)'), o, vocab, config);
    assert.equal(j.stats!.pseudoLabelAccuracy, 1);
    assert.equal(j.stats!.trueAccuracy, 1);
    assert.equal(j.trajectories.find((t) => t.segment === 'challenger')!.reward, 0);
  });

  test("R-Zero's informative-question filter: the solver trains only when 3/10 ≤ p̂ ≤ 8/10; the challenger always", () => {
    assert.deepEqual([o.informativeMin, o.informativeMax], [0.3, 0.8], 'on by default at R-Zero\'s band');
    const q = '2*3';
    const group = (right: number, n = 10) => Array.from({ length: n }, (_, i) => answerSample(q, i < right ? '6' : String(10 + i)));
    for (const [right, kept] of [[10, false], [9, false], [8, true], [5, true], [3, true], [2, false]] as const) {
      // p̂ is the majority fraction: `right` votes for 6, the rest spread over distinct answers.
      const j = rZero.judge({ question: q, references: [] }, group(right), proposalSample(q), o, vocab, config);
      assert.equal(j.stats!.majorityFraction, right / 10);
      assert.equal(j.stats!.informative, kept ? 1 : 0, `p̂ = ${right}/10`);
      assert.equal(j.trajectories.filter((t) => t.segment === 'solver').length, kept ? 10 : 0, `p̂ = ${right}/10`);
      assert.equal(j.trajectories.filter((t) => t.segment === 'challenger').length, 1, 'the challenger learns from every question');
      assert.equal(j.stats!.pseudoLabelAccuracy, 1, 'stats are measured on filtered groups too');
      assert.equal(j.stats!.trainedLabelAccuracy, kept ? 1 : undefined, 'the trained questions\' label accuracy: only where the solver trains');
    }
    // [0, 1] keeps everything; [0.5, 0.5] only an exact split.
    assert.equal(rZero.judge({ question: q, references: [] }, group(10), undefined, { ...o, informativeMin: 0, informativeMax: 1 }, vocab, config).trajectories.length, 10);
    assert.equal(rZero.judge({ question: q, references: [] }, group(5), undefined, { ...o, informativeMin: 0.5, informativeMax: 0.5 }, vocab, config).trajectories.length, 10);
    assert.equal(rZero.judge({ question: q, references: [] }, group(6), undefined, { ...o, informativeMin: 0.5, informativeMax: 0.5 }, vocab, config).trajectories.length, 0);
  });

  test("a labeler's answers make the label and are never trained; the solver's are trained on it and not counted", () => {
    const q = '2*3';
    const vote = (a: string): AnswerRecord => ({ ...(answerSample(q, a) as AnswerRecord), use: 'vote' });
    const train = (a: string): AnswerRecord => ({ ...(answerSample(q, a) as AnswerRecord), use: 'train' });
    // The frozen labeler says 6 with p̂ 6/10 (informative); the solver's own majority (7) would have labelled otherwise.
    const labels = [...Array(6).fill('6'), '1', '2', '3', '4'].map(vote);
    const own = ['7', '7', '7', '6'].map(train);
    const j = rZero.judge({ question: q, references: [] }, [...own, ...labels], proposalSample(q), o, vocab, config);
    const solver = j.trajectories.filter((t) => t.segment === 'solver');
    assert.deepEqual(solver.map((t) => t.reward), [0, 0, 0, 1], 'rewards are agreement with the labeler\'s label');
    assert.equal(j.stats!.majorityFraction, 0.6, 'p̂ is the labeler\'s');
    assert.equal(j.stats!.pseudoLabelAccuracy, 1);
    assert.equal(j.stats!.trueAccuracy, 1 / 4, 'true accuracy is the trained answers\'');
    assert.ok(Math.abs(j.trajectories.find((t) => t.segment === 'challenger')!.reward - 0.8) < 1e-12, 'the challenger is paid on the labeler\'s p̂');
    // The labeler unanimous (p̂ 1): nothing for the solver, whatever its own answers.
    assert.equal(rZero.judge({ question: q, references: [] }, [...own, ...Array(10).fill('6').map(vote)], undefined, o, vocab, config).trajectories.length, 0);
    // A group must have both kinds, and only the three uses exist.
    assert.throws(() => rZero.judge({ question: q, references: [] }, own, undefined, o, vocab, config), /vote and answers to train/);
    assert.throws(() => rZero.judge({ question: q, references: [] }, labels, undefined, o, vocab, config), /vote and answers to train/);
    assert.throws(() => rZero.judge({ question: q, references: [] }, [{ ...labels[0]!, use: 'all' as never }, ...own], undefined, o, vocab, config), /use must be one of/);
  });

  test('the repetition penalty is subtracted from the challenger reward, scaled by its weight', () => {
    const rollouts = [answerSample('12*(3+4)-6', '78'), answerSample('12*(3+4)-6', '77')];
    const task = { question: '12*(3+4)-6', references: ['12*(3+4)-5', '7*8'] };
    const reward = (w: number) => rZero.judge(task, rollouts, proposalSample('12*(3+4)-6'), { ...o, repetitionPenalty: w }, vocab, config).trajectories.at(-1)!.reward;
    // p̂ = 1/2 → uncertainty 1; one of two references is a near-duplicate.
    assert.equal(reward(0), 1);
    assert.equal(reward(1), 0.5);
    assert.equal(reward(2), 0);
  });

  test('malformed answers score 0 with formatOk false; no label when none is well formed', () => {
    const malformed = [answerSample('1+1', '2', false), answerSample('1+1', '+')];
    const j = rZero.judge({ question: '1+1', references: [] }, malformed, undefined, free, vocab, config);
    assert.deepEqual(j.trajectories.map((t) => [t.reward, t.formatOk]), [[0, false], [0, false]]);
    assert.equal(j.stats!.majorityFraction, 0);
    assert.equal(j.trajectories.length, 2, 'no proposal → no challenger trajectory');
    assert.ok(j.trajectories.every((t) => t.sample.allowed === undefined), 'unconstrained: scored over the whole vocabulary');
    // Under constrained decoding an answer the grammar forbids was not decoded under this config.
    assert.throws(() => rZero.judge({ question: '1+1', references: [] }, malformed, undefined, o, vocab, config), /answer 1: response token 0 is outside the grammar/);
    assert.throws(() => rZero.judge({ question: '1+1', references: [] }, [answerSample('1+1', '2')], proposalSample('1+1+'), o, vocab, config), TaskRejected);
  });

  test('tampered groups and foreign proposals are rejected', () => {
    const task = { question: '1+1', references: [] };
    const bad = structuredClone(answerSample('1+1', '2')) as unknown as { sample: { tokens: number[] } };
    bad.sample.tokens[2] = vocab.id('7');
    assert.throws(() => rZero.judge(task, [bad], undefined, o, vocab, config), TaskRejected);
    assert.throws(() => rZero.judge(task, [answerSample('1+2', '3')], undefined, o, vocab, config), TaskRejected);
    assert.throws(() => rZero.judge(task, [answerSample('1+1', '2')], proposalSample('1+2'), o, vocab, config), TaskRejected);
    assert.throws(() => rZero.judge(task, [], undefined, o, vocab, config), TaskRejected);
    assert.throws(() => rZero.judge({ question: '1+' }, [answerSample('1+1', '2')], undefined, o, vocab, config), TaskRejected);
    assert.throws(() => rZero.judge(task, [{ sample: null }], undefined, o, vocab, config), TaskRejected);
  });
});

describe('validateTask', () => {
  test('valid tasks are normalised: canonical question, canonical references, the true answer', () => {
    const v = rZero.validateTask({ question: '((2+3))*4', references: ['(1+1)', '7*(8)'] }, o);
    assert.equal(v.valid, true);
    assert.equal(v.canonical, '(2+3)*4');
    assert.deepEqual(v.task, { question: '(2+3)*4', references: ['1+1', '7*8'], trueAnswer: '20' });
  });

  test('invalid questions are rejected with a reason code', () => {
    const cases: [unknown, string, Partial<RZeroOptions>?][] = [
      [null, 'bad_task'], ['1+1', 'bad_task'], [{ question: 7 }, 'bad_task'],
      [{ question: '7' }, 'no_operator'], [{ question: '(7)' }, 'no_operator'],
      [{ question: '1+' }, 'syntax'], [{ question: '1+<q>' }, 'syntax'], [{ question: '01+1' }, 'bad_literal'],
      [{ question: '((((((1+1))))))' }, 'too_deep'], [{ question: '1+1'.repeat(20) }, 'too_long'],
      [{ question: '99999*99999' }, 'out_of_bounds'], [{ question: '50*3' }, 'answer_too_long', { maxAnswerDigits: 2 }],
      [{ question: '1+1', references: 'x' }, 'bad_references'], [{ question: '1+1', references: ['1+'] }, 'bad_references'],
      [{ question: '1+1', references: Array(17).fill('1+1') }, 'bad_references'],
    ];
    for (const [task, code, extra] of cases) {
      const v = rZero.validateTask(task, { ...o, ...extra });
      assert.equal(v.valid, false, JSON.stringify(task));
      assert.ok(v.reason?.startsWith(`${code}:`), `${JSON.stringify(task)}: ${v.reason}`);
    }
  });

  test('options: defaults from the schema, unknown keys rejected', () => {
    assert.deepEqual(o, { maxQuestionTokens: 24, maxDepth: 4, maxAnswerDigits: 10, repetitionPenalty: 1, constrain: true, informativeMin: 0.3, informativeMax: 0.8 });
    assert.throws(() => parseExperiment({ name: 't', recipe: 'r-zero', options: { nope: 1 } }, registry), ValidationError);
    assert.deepEqual(rZero.segments(o), ['challenger', 'solver']);
    assert.deepEqual(rZero.evalSuites(o), ['arith']);
  });
});

describe('held-out set', () => {
  test('fixed by its seed, graded by operator count, exact answers', () => {
    const a = heldOutSet(12345, 40);
    assert.deepEqual(a, heldOutSet(12345, 40));
    assert.notDeepEqual(a.map((q) => q.question), heldOutSet(1, 40).map((q) => q.question));
    a.forEach((q, i) => {
      assert.equal(q.difficulty, 1 + (i % 4));
      const e = parseExpr(q.question);
      assert.equal(operatorCount(e), q.difficulty);
      assert.equal(String(evaluate(e)), q.answer);
    });
    const r = seededRng(3);
    for (let d = 0; d <= 8; d++) assert.equal(operatorCount(randomExpression(r, d).expr), d);
    assert.throws(() => randomExpression(r, -1), RangeError);
  });
});

describe('with a tiny real policy', () => {
  const keepAll = { ...o, informativeMin: 0, informativeMax: 1 };
  test('propose → validate → rollout → judge round trip', async () => {
    const policy = await handle();
    const proposed = await rZero.propose({ config, policy, buffer: [{ question: '1+2' }, { junk: true }], count: 6, rng: seededRng(5) });
    assert.equal(proposed.length, 6);
    let judged = 0;
    for (const p of proposed) {
      const t = p.task as ArithTask;
      assert.deepEqual(t.references, ['1+2']);
      assert.equal(p.proposal!.role, 'challenger');
      const v = rZero.validateTask(p.task, o);
      // The mask guarantees syntax; only the value bound can fail.
      if (!v.valid) { assert.match(v.reason!, /^(out_of_bounds|answer_too_long):/); continue; }
      const rollouts = await rZero.rollout({ config, policy, rng: seededRng(6) }, v.task, 4);
      assert.equal(rollouts.length, 4);
      const j = rZero.judge(v.task, rollouts, p.proposal, keepAll, vocab, config);
      assert.equal(j.trajectories.length, 5);
      // The judge recomputes every allowed set from the grammar; they equal what decoding used.
      assert.deepEqual(j.trajectories.map((tr) => tr.sample.allowed), [...(rollouts as AnswerRecord[]).map((r) => r.sample.allowed), p.proposal!.allowed]);
      assert.ok(j.trajectories.every((tr) => tr.sample.allowed!.length === tr.sample.tokens.length - tr.sample.promptLength));
      // Sets sent by a solver are never used: a record claiming a singleton set gets the grammar's.
      const forged = (rollouts as AnswerRecord[]).map((r) => ({ sample: { ...r.sample, allowed: r.sample.allowed!.map((_, k) => [r.sample.tokens[r.sample.promptLength + k]!]) } }));
      assert.deepEqual(rZero.judge(v.task, forged, p.proposal, keepAll, vocab, config).trajectories.map((tr) => tr.sample.allowed), j.trajectories.map((tr) => tr.sample.allowed));
      assert.ok(j.trajectories.every((tr) => tr.formatOk), 'constrained answers are well formed');
      assert.ok(j.trajectories.filter((tr) => tr.segment === 'solver').every((tr) => tr.reward === 0 || tr.reward === 1));
      judged++;
    }
    assert.ok(judged > 0, 'at least one proposal was valid');
    await assert.rejects(rZero.propose({ config, buffer: [], count: 1, rng: Math.random }), TaskRejected);
  });

  test('evaluation is deterministic, in [0, 1], and reports every difficulty', async () => {
    const policy = await handle();
    const a = await rZero.evaluate(policy, ['arith'], { episodes: 24, seed: 9 }, o);
    const b = await rZero.evaluate(policy, ['arith'], { episodes: 24, seed: 9 }, o);
    assert.deepEqual(a, b);
    const r = a.arith!;
    assert.equal(r.count, 24);
    assert.equal(r.formatRate, 1, 'the answer mask always completes');
    for (const k of ['accuracy', 'formatRate', 'accuracyD1', 'accuracyD2', 'accuracyD3', 'accuracyD4']) {
      assert.ok(r[k]! >= 0 && r[k]! <= 1, k);
    }
    const free = (await rZero.evaluate(policy, ['arith'], { episodes: 8, seed: 9 }, { ...o, constrain: false })).arith!;
    assert.ok(free.accuracy! >= 0 && free.accuracy! <= 1 && free.formatRate! >= 0 && free.formatRate! <= 1);
  });
});
