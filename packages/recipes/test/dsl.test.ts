/** Unit tests of the program DSL: symbols, semantics, errors, mask, tasks, formats, adversarial inputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DSL_SPECIALS, DSL_SYMBOLS, END, INPUT_MAX_LEN, MARK, MAX_INT, MAX_PROGRAM_TOKENS, MAX_TEXT_CHARS,
  advance, advanceAll, allowedNext, answerKind, createRng, execute, fn, generateTask, initialState, isComplete,
  judgeAnswer, valueSimilarity, mapS, parseDraft, parseProgram, parseValue, printValue, program, programText, renderAnswer,
  renderProposerPrompt, renderSolverPrompt, run, simpleS, taskHash, tokenize, validateProposal,
  type Task,
} from '../src/dsl/index.ts';

const P = (text: string) => parseProgram(tokenize(text));
const V = (text: string) => parseValue(tokenize(text));

test('symbol set: 36 unique whitespace-free symbols; symbols ∪ specials ∪ END is prefix-free', () => {
  assert.equal(DSL_SYMBOLS.length, 36);
  const all = [...DSL_SYMBOLS, ...DSL_SPECIALS, END];
  assert.equal(new Set(all).size, all.length);
  for (const a of all) {
    assert.ok(a.length > 0 && !/\s/.test(a));
    for (const b of all) if (a !== b) assert.ok(!b.startsWith(a), `${a} is a prefix of ${b}`);
  }
});

test('semantics by example', () => {
  const cases: [string, string, string][] = [
    ['map * 2 | filter gt 5 | sum | % 7', '[ 3 , 1 , 4 , 1 , 5 ]', '3'],
    ['sort | reverse | take 3', '[ 3 , 1 , 4 , 1 , 5 ]', '[ 5 , 4 , 3 ]'],
    ['drop 2 | len', '[ 3 , 1 , 4 ]', '1'],
    ['filter even | head', '[ 3 , 1 ]', '0'],
    ['max', '[ ]', '0'],
    ['min | - 7 | / 2', '[ 4 ]', '- 2'],
    ['map - 9 | map % 4', '[ 0 , 8 ]', '[ 3 , 3 ]'],
    ['map - 9 | filter odd | last', '[ 2 , 4 ]', '- 5'],
    ['map - 9 | filter even | last', '[ 1 , 2 ]', '- 8'],
    ['map - 5 | map * 0 | sum', '[ 1 ]', '0'],
    ['take 9 | filter eq 1 | len', '[ 1 , 1 , 2 ]', '2'],
    ['filter lt 3 | sum | * 9 | + 9', '[ 2 , 1 , 9 ]', '3 6'],
  ];
  for (const [prog, x, y] of cases) {
    const out = execute(P(prog), parseValue(tokenize(x), 'input') as number[]).value;
    assert.deepStrictEqual(out, V(y), prog);
    assert.equal(printValue(out).join(' '), y);
  }
  assert.ok(!Object.is(execute(P('map - 5 | map * 0 | head'), [1]).value, -0), '-0 is normalised');
});

test('parser: typed errors with position and expected set; only canonical forms parse', () => {
  assert.throws(() => P('map * 2 | sum sum'), (e: any) => e.code === 'DSL_PARSE_ERROR' && e.position === 5 && e.found === 'sum'
    && e.expected.join() === ['|', END].join());
  assert.throws(() => P('sum | map + 1'), (e: any) => e.position === 2 && e.expected.join() === '+,-,*,/,%');
  assert.throws(() => P('map / 0'), (e: any) => e.position === 2 && !e.expected.includes('0'));
  assert.throws(() => P(''), (e: any) => e.position === 0 && e.found === END);
  assert.throws(() => P('map'), (e: any) => e.position === 1 && e.found === END);
  assert.throws(() => P(Array(9).fill('sort').join(' | ')), (e: any) => e.code === 'DSL_PARSE_ERROR' && e.expected.join() === END);
  for (const bad of ['0 7', '- 0', '[ 1 , ]', '[ , 1 ]', '1 2 3 4 5 6 7', '[ 0 1 ]', '[ [ 1 ] ]', '- - 1', '1 ]']) {
    assert.throws(() => V(bad), { code: 'DSL_PARSE_ERROR' }, bad);
  }
  assert.deepStrictEqual(V('- 9 9 9 9 9 9'), -MAX_INT);
  assert.throws(() => parseValue(tokenize('[ - 1 ]'), 'input'), { code: 'DSL_PARSE_ERROR' });
  assert.throws(() => parseValue(tokenize('[ 1 0 ]'), 'input'), { code: 'DSL_PARSE_ERROR' });
  assert.throws(() => parseValue(tokenize('7'), 'input'), { code: 'DSL_PARSE_ERROR' });
  assert.throws(() => parseValue(tokenize(`[ ${Array(INPUT_MAX_LEN + 1).fill('1').join(' , ')} ]`), 'input'), { code: 'DSL_SIZE_LIMIT' });
});

test('interpreter: overflow, fuel exhaustion and bad inputs are typed errors', () => {
  const grow = P('sum | * 9 | * 9 | * 9 | * 9 | * 9 | * 9 | * 9');
  assert.throws(() => execute(grow, [9, 9, 9]), { code: 'DSL_OVERFLOW' });
  const r = run(P('sort | reverse | sum'), [1, 2, 3, 4], { fuel: 10 });
  assert.ok(!r.ok && r.error.code === 'DSL_FUEL_EXHAUSTED' && r.fuelUsed <= 10);
  assert.throws(() => execute(P('sum'), Array(40).fill(1)), { code: 'DSL_OVERFLOW' });
  assert.throws(() => execute(P('sum'), [1.5]), { code: 'DSL_INVALID_VALUE' });
  assert.throws(() => execute(P('sum'), 3 as never), { code: 'DSL_INVALID_VALUE' });
  assert.throws(() => printValue(MAX_INT + 1), { code: 'DSL_OVERFLOW' });
  assert.throws(() => execute(program([mapS(fn('/', 0))]), [1]), { code: 'DSL_INVALID_PROGRAM' });
  assert.throws(() => execute(program([simpleS('sum'), simpleS('sum')]), [1]), { code: 'DSL_INVALID_PROGRAM' });
});

test('mask: END only when complete, budget forces closing, typed errors', () => {
  let s = initialState('input', { maxTokens: 4 });
  s = advanceAll(s, ['[', '5']);
  assert.deepStrictEqual(allowedNext(s), new Set([']'])); // ", d ]" would need 3 more
  s = advance(s, ']');
  assert.deepStrictEqual(allowedNext(s), new Set([END]));
  assert.throws(() => advance(s, ','), { code: 'DSL_MASK_DISALLOWED' });
  assert.deepStrictEqual(allowedNext(advance(s, END)), new Set());

  let p = advance(initialState('program', { maxTokens: 3 }), 'sum');
  assert.ok(isComplete(p));
  assert.deepStrictEqual(allowedNext(p), new Set([END])); // "| + 1" needs 3
  p = advanceAll(initialState('program', { maxTokens: 2 }), []);
  assert.ok(!allowedNext(p).has('map'), 'map needs 3 tokens');
  assert.throws(() => initialState('input', { maxTokens: 1 }), { code: 'DSL_BUDGET_TOO_SMALL' });
  assert.throws(() => advance(initialState('program'), END), { code: 'DSL_MASK_DISALLOWED' });

  let d = advanceAll(initialState('draft', { minInputs: 2, maxInputs: 2 }), ['len', MARK.in, '[', ']']);
  assert.ok(!isComplete(d) && allowedNext(d).has(MARK.in) && !allowedNext(d).has(END));
  d = advanceAll(d, [MARK.in, '[', '1', ']']);
  assert.deepStrictEqual(allowedNext(d), new Set([END]));
});

const sample = (type: Task['type']): Task => generateTask(createRng(3), type, 2);

test('validateProposal: format, inputs, runtime, duplicate, ok', () => {
  const ok = validateProposal('deduction', tokenize('map + 1 | sum <in> [ 1 , 2 ]'));
  assert.ok(ok.ok);
  assert.deepStrictEqual(ok.task.outputs, [5]);
  assert.equal(ok.hash, taskHash(ok.task));
  assert.equal(ok.hash.length, 64);
  const dup = validateProposal('deduction', tokenize('map + 1 | sum <in> [ 1 , 2 ] <eos>'), { seen: new Set([ok.hash]) });
  assert.equal(!dup.ok && dup.reason, 'duplicate');
  const reasons = [
    validateProposal('deduction', tokenize('map + | sum <in> [ 1 ]')),
    validateProposal('deduction', tokenize('sum')),
    validateProposal('deduction', tokenize('sum <in> [ 1 ] <in> [ 2 ]')),
    validateProposal('induction', tokenize('sum <in> [ 1 ]')),
    validateProposal('induction', tokenize('sum <in> [ 1 ] <in> [ 1 ]')),
    validateProposal('deduction', { program: P('sum'), inputs: [[10]] }),
    validateProposal('deduction', { program: P('sum | * 9 | * 9 | * 9 | * 9 | * 9 | * 9 | * 9'), inputs: [[9]] }),
    validateProposal('deduction', tokenize('sort | sum <in> [ 1 , 2 ]'), { fuel: 3 }),
    validateProposal('deduction', { program: program([]), inputs: [[1]] }),
  ].map((v) => (v.ok ? 'ok' : v.reason));
  assert.deepStrictEqual(reasons, ['format', 'format', 'format', 'format', 'inputs', 'inputs', 'runtime', 'runtime', 'size']);
  const ind = validateProposal('induction', tokenize('sort <in> [ 2 , 1 ] <in> [ 3 ] <in> [ ] <in> [ 5 , 5 ]'));
  assert.ok(ind.ok && ind.task.shown === 2 && ind.task.inputs.length === 4);
});

test('judgeAnswer separates format failures from wrong answers', () => {
  const d = sample('deduction');
  assert.deepStrictEqual(judgeAnswer(d, [...renderAnswer(d), END]), { formatOk: true, correct: true, similarity: 1 });
  assert.equal(judgeAnswer(d, renderAnswer(d).join(' ')).correct, true);
  const wrong = judgeAnswer(d, printValue(typeof d.outputs[0] === 'number' ? d.outputs[0] + 1 : [...d.outputs[0]!, 1]));
  assert.deepStrictEqual([wrong.formatOk, wrong.correct], [true, false]);
  assert.deepStrictEqual([judgeAnswer(d, ['[', '1']).formatOk, judgeAnswer(d, ['sum']).formatOk, judgeAnswer(d, []).formatOk], [false, false, false]);

  const abd = validateProposal('abduction', tokenize('sort | head <in> [ 3 , 1 , 4 ]'));
  assert.ok(abd.ok);
  assert.equal(judgeAnswer(abd.task, tokenize('[ 1 ]')).correct, true, 'any input with that output is correct');
  assert.deepStrictEqual(judgeAnswer(abd.task, tokenize('[ 2 ]')).correct, false);
  assert.equal(judgeAnswer(abd.task, tokenize('[ 1 0 ]')).formatOk, false, 'outside the input grammar');
  assert.equal(judgeAnswer(abd.task, tokenize('1')).formatOk, false);

  const ind = validateProposal('induction', tokenize('len <in> [ 3 , 1 ] <in> [ 2 ] <in> [ 5 , 5 , 5 ]'), { shown: 2 });
  assert.ok(ind.ok);
  assert.equal(judgeAnswer(ind.task, tokenize('len')).correct, true);
  const heldOutFail = judgeAnswer(ind.task, tokenize('head | - 1'));
  assert.deepStrictEqual([heldOutFail.formatOk, heldOutFail.correct], [true, false]);
  assert.match(heldOutFail.reason ?? '', /held out/);
  assert.equal(judgeAnswer(ind.task, tokenize('len |')).formatOk, false);
});

test('similarity: 1 exactly when equal; closeness of ints and lists; graded wrong answers', () => {
  assert.equal(valueSimilarity(4, 4), 1);
  assert.equal(valueSimilarity(3, 5), 1 / 3);
  assert.equal(valueSimilarity([1, 2, 3], [1, 2, 3]), 1);
  assert.equal(valueSimilarity([1, 9, 3], [1, 2, 3, 4]), 2 / 4);
  assert.equal(valueSimilarity([], []), 1);
  assert.equal(valueSimilarity([], [1]), 0);
  assert.equal(valueSimilarity(1, [1]), 0);
  assert.equal(valueSimilarity([1], 1), 0);
  const ded = validateProposal('deduction', tokenize('sort <in> [ 3 , 1 , 2 ]'));
  assert.ok(ded.ok);
  const near = judgeAnswer(ded.task, tokenize('[ 1 , 2 , 9 ]'));
  const far = judgeAnswer(ded.task, tokenize('[ 9 , 9 , 9 ]'));
  assert.deepStrictEqual([near.correct, near.similarity, far.similarity], [false, 2 / 3, 0]);
  const abd = validateProposal('abduction', tokenize('sort | head <in> [ 3 , 1 , 4 ]'));
  assert.ok(abd.ok);
  assert.equal(judgeAnswer(abd.task, tokenize('[ 3 ]')).similarity, 1 / 3, 'the output the answer produces (3) against 1');
  const ind = validateProposal('induction', tokenize('len <in> [ 3 , 1 ] <in> [ 2 ] <in> [ 5 , 5 , 5 ]'), { shown: 2 });
  assert.ok(ind.ok);
  const off = judgeAnswer(ind.task, tokenize('head'));
  assert.equal(off.correct, false);
  assert.ok(Math.abs(off.similarity! - (1 / 2 + 1 / 2 + 1 / 3) / 3) < 1e-12, `mean over pairs: ${off.similarity}`);
});

test('prompt formats, answer kinds, proposer prompt and draft parsing', () => {
  const t = validateProposal('deduction', tokenize('map + 1 <in> [ 1 ]'));
  assert.ok(t.ok);
  assert.equal(renderSolverPrompt(t.task).join(' '), '<deduce> <prog> map + 1 <in> [ 1 ] <out>');
  assert.equal(renderSolverPrompt({ ...t.task, type: 'abduction' }).join(' '), '<abduce> <prog> map + 1 <out> [ 2 ] <in>');
  const ind = sample('induction');
  const pr = renderSolverPrompt(ind);
  assert.equal(pr.filter((x) => x === MARK.in).length, ind.shown);
  assert.equal(pr[pr.length - 1], MARK.prog);
  assert.deepStrictEqual(['deduction', 'abduction', 'induction'].map((k) => answerKind(k as Task['type'])), ['value', 'input', 'program']);
  const prop = renderProposerPrompt('abduction', [t.task]);
  assert.equal(prop.join(' '), '<propose> <abduce> <ref> <prog> map + 1 <in> [ 1 ] <out> [ 2 ] <prog>');
  for (const tok of [...prop, ...pr]) assert.ok(DSL_SYMBOLS.includes(tok) || DSL_SPECIALS.includes(tok), tok);
  assert.throws(() => parseDraft(tokenize('map + <in> [ 1 ]')), (e: any) => e.code === 'DSL_FORMAT_ERROR' && e.section === 'program' && e.cause.code === 'DSL_PARSE_ERROR');
  assert.throws(() => parseDraft(tokenize('sum <in> [ 1 , ]')), (e: any) => e.section === 'input 0');
  assert.throws(() => parseDraft(tokenize('sum')), (e: any) => e.section === 'draft');
  assert.equal(programText(parseDraft(tokenize('sum <in> [ ] <eos>')).program), 'sum');
});

function fast(f: () => void, ms = 200): void {
  const t0 = performance.now();
  f();
  assert.ok(performance.now() - t0 < ms, `took ${performance.now() - t0} ms`);
}

test('adversarial inputs are rejected quickly with typed errors', () => {
  const deep = Array(10_000).fill('[').join(' ');
  fast(() => assert.throws(() => parseValue(tokenize(deep)), { code: 'DSL_SIZE_LIMIT' }));
  fast(() => assert.throws(() => parseValue(['[', '[', ']', ']']), { code: 'DSL_PARSE_ERROR' }));
  fast(() => assert.throws(() => parseProgram(tokenize(Array(10_000).fill('map').join(' '))), { code: 'DSL_SIZE_LIMIT' }));
  fast(() => assert.throws(() => parseProgram(tokenize('( ( ( map + 1 ) ) )')), { code: 'DSL_PARSE_ERROR' }));
  const million = Array(1_000_000).fill('sum');
  fast(() => assert.throws(() => parseProgram(million), { code: 'DSL_SIZE_LIMIT' }));
  fast(() => assert.throws(() => parseValue(new Array(1e9)), { code: 'DSL_SIZE_LIMIT' }));
  fast(() => assert.throws(() => tokenize('1 '.repeat(1_000_000)), { code: 'DSL_SIZE_LIMIT' }));
  fast(() => assert.equal(judgeAnswer(sample('deduction'), million).formatOk, false));
  fast(() => assert.equal(judgeAnswer(sample('induction'), 'x'.repeat(MAX_TEXT_CHARS + 1)).formatOk, false));
  fast(() => assert.throws(() => parseDraft(million), { code: 'DSL_FORMAT_ERROR' }));
  fast(() => assert.equal((validateProposal('induction', million) as { reason: string }).reason, 'format'));
  fast(() => assert.throws(() => execute(program(Array(10_000).fill(simpleS('sort'))), [1]), { code: 'DSL_INVALID_PROGRAM' }));
  fast(() => assert.throws(() => execute(P('sum'), new Array(1e9)), { code: 'DSL_OVERFLOW' }));
  fast(() => assert.throws(() => execute(P('sum'), [[[[1]]]] as never), { code: 'DSL_INVALID_VALUE' }));
  fast(() => assert.throws(() => parseProgram(['map', 7 as never, '1']), { code: 'DSL_PARSE_ERROR' }));
  fast(() => assert.throws(() => parseProgram(['<eos>']), { code: 'DSL_PARSE_ERROR' }));
  assert.ok(MAX_PROGRAM_TOKENS <= 32);
});
