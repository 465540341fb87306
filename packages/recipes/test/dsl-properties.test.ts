/**
 * Seeded property tests of the program DSL: print/parse round-trips, parser ⇔ grammar-mask
 * agreement, random constrained walks, the fuel bound, determinism, held-out set stability.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_FUEL, DSL_SYMBOLS, END, FuelExhaustedError, INPUT_MAX_LEN, MAX_INT, MAX_LIST_LEN, MAX_STAGES, MARK,
  ParseError, SizeLimitError, advance, allowedNext, createRng, execute, generateTask, heldOutSet, initialState, isComplete,
  judgeAnswer, minToFinish, parseDraft, parseProgram, parseValue, printProgram, printValue, randomInput,
  randomProgram, renderAnswer, renderDraft, run, taskHash, validateProposal,
  type GrammarKind, type GrammarState, type Rng, type Value,
} from '../src/dsl/index.ts';

function randomValue(rng: Rng): Value {
  const int = (): number => {
    const mag = rng.pick([9, 99, 9_999, MAX_INT]);
    return rng.range(-mag, mag);
  };
  return rng.next() < 0.3 ? int() : Array.from({ length: rng.range(0, MAX_LIST_LEN) }, int);
}

function parseKind(kind: GrammarKind, tokens: readonly string[]): unknown {
  switch (kind) {
    case 'program': return parseProgram(tokens);
    case 'value': return parseValue(tokens, 'value');
    case 'input': return parseValue(tokens, 'input');
    case 'draft': return parseDraft(tokens, { minInputs: 1, maxInputs: 3 });
  }
}

/** Walk the mask choosing uniformly among allowed symbols until END. */
function walk(rng: Rng, start: GrammarState): string[] {
  let s = start;
  const out: string[] = [];
  for (let i = 0; i <= start.maxTokens; i++) {
    const allowed = [...allowedNext(s)];
    assert.ok(allowed.length > 0, `dead end after ${out.join(' ')}`);
    if (allowed.length === 1 && allowed[0] !== END) assert.ok(!isComplete(s));
    // bias towards continuing so that long sequences and the budget edge get exercised
    const cont = allowed.filter((t) => t !== END);
    const t = cont.length > 0 && rng.next() < 0.85 ? rng.pick(cont) : rng.pick(allowed);
    s = advance(s, t);
    if (t === END) return out;
    out.push(t);
  }
  assert.fail(`walk did not end within ${start.maxTokens + 1} steps: ${out.join(' ')}`);
}

test('random programs: print → parse deep-equals, parse → print is the identity', () => {
  const rng = createRng(11);
  for (let i = 0; i < 3000; i++) {
    const p = randomProgram(rng, { stages: rng.range(1, MAX_STAGES) });
    const toks = printProgram(p);
    const q = parseProgram(toks);
    assert.deepStrictEqual(q, p);
    assert.deepStrictEqual(printProgram(q), toks);
  }
});

test('random values: print → parse round-trips; printed inputs parse as inputs', () => {
  const rng = createRng(12);
  for (let i = 0; i < 3000; i++) {
    const v = randomValue(rng);
    assert.deepStrictEqual(parseValue(printValue(v)), v);
    const x = randomInput(rng);
    assert.deepStrictEqual(parseValue(printValue(x), 'input'), x);
  }
});

test('the mask accepts every printed program, value and input, then END', () => {
  const rng = createRng(13);
  for (let i = 0; i < 1000; i++) {
    const cases: [GrammarKind, string[]][] = [
      ['program', printProgram(randomProgram(rng, { stages: rng.range(1, MAX_STAGES) }))],
      ['value', printValue(randomValue(rng))],
      ['input', printValue(randomInput(rng))],
    ];
    for (const [kind, toks] of cases) {
      let s = initialState(kind, { maxTokens: toks.length });
      for (const t of toks) s = advance(s, t);
      assert.ok(isComplete(s));
      assert.deepStrictEqual([...allowedNext(s)], [END], `${kind} at exact budget must only allow END`);
      assert.ok(advance(s, END).ended);
    }
  }
});

test('random mask walks always parse and respect maxTokens (all kinds, random budgets)', () => {
  const rng = createRng(14);
  const kinds: GrammarKind[] = ['program', 'value', 'input', 'draft'];
  let total = 0;
  for (let i = 0; i < 4000; i++) {
    const kind = kinds[i % kinds.length]!;
    const minInputs = rng.range(1, 2);
    const opts = kind === 'draft' ? { minInputs, maxInputs: rng.range(minInputs, 3) } : {};
    const min = minToFinish(initialState(kind, opts));
    const cap = initialState(kind, opts).maxTokens;
    const maxTokens = rng.next() < 0.5 ? rng.range(min, Math.min(cap, min + 6)) : rng.range(min, cap);
    const toks = walk(rng, initialState(kind, { ...opts, maxTokens }));
    assert.ok(toks.length <= maxTokens, `${kind}: ${toks.length} > ${maxTokens}`);
    assert.doesNotThrow(() => parseKind(kind, toks), `${kind} walk ${toks.join(' ')} must parse`);
    if (kind === 'program') assert.deepStrictEqual(printProgram(parseProgram(toks)), toks);
    if (kind === 'value') assert.deepStrictEqual(printValue(parseValue(toks)), toks);
    if (kind === 'draft') assert.deepStrictEqual(renderDraft(parseDraft(toks, { maxInputs: 3 })), toks);
    total += toks.length;
  }
  assert.ok(total > 4000 * 3, 'walks are not trivially short');
});

test('symbols outside the mask are rejected by advance', () => {
  const rng = createRng(15);
  const universe = [...DSL_SYMBOLS, MARK.in, END, 'garbage'];
  for (let i = 0; i < 300; i++) {
    let s = initialState(rng.pick(['program', 'value', 'input'] as const));
    for (let k = 0; k < 12 && !s.ended; k++) {
      const allowed = allowedNext(s);
      const bad = universe.filter((t) => !allowed.has(t));
      if (bad.length) assert.throws(() => advance(s, rng.pick(bad)), { code: 'DSL_MASK_DISALLOWED' });
      s = advance(s, rng.pick([...allowed]));
    }
  }
});

/** Mutate a valid sequence: replace, insert or delete one token, or take a random sequence. */
function mutate(rng: Rng, toks: string[]): string[] {
  const universe = [...DSL_SYMBOLS, 'x', '(', '<in>'];
  const out = [...toks];
  const r = rng.int(4);
  const at = rng.int(out.length + 1);
  if (r === 0 && out.length) out[Math.min(at, out.length - 1)] = rng.pick(universe);
  else if (r === 1) out.splice(at, 0, rng.pick(universe));
  else if (r === 2 && out.length) out.splice(Math.min(at, out.length - 1), 1);
  else return Array.from({ length: rng.range(0, 8) }, () => rng.pick(universe));
  return out;
}

test('parser and mask agree: same accept/reject, ParseError position and expected set match the mask', () => {
  const rng = createRng(16);
  let rejected = 0;
  for (let i = 0; i < 6000; i++) {
    const kind = rng.pick(['program', 'value', 'input'] as const);
    const base = kind === 'program' ? printProgram(randomProgram(rng, { stages: rng.range(1, 4) }))
      : kind === 'value' ? printValue(randomValue(rng)) : printValue(randomInput(rng));
    const toks = mutate(rng, base);
    let err: ParseError | undefined;
    let tooLong = false;
    try { parseKind(kind, toks); } catch (e) {
      if (e instanceof SizeLimitError) tooLong = true;
      else if (!(e instanceof ParseError)) throw e;
      else err = e;
    }
    // replay on the mask (default budget = structural maximum, so the budget never filters)
    let s = initialState(kind);
    let failedAt = -1;
    for (let k = 0; k <= toks.length; k++) {
      const t = k < toks.length ? toks[k]! : END;
      if (!allowedNext(s).has(t)) { failedAt = k; break; }
      s = advance(s, t);
    }
    if (tooLong) { assert.notEqual(failedAt, -1, `mask accepts over-long ${toks.join(' ')}`); continue; }
    if (!err) { assert.equal(failedAt, -1, `mask rejects parsed ${kind}: ${toks.join(' ')}`); continue; }
    rejected++;
    assert.equal(failedAt, err.position, `${kind} ${toks.join(' ')}: mask fails at ${failedAt}, parser at ${err.position}`);
    assert.deepStrictEqual(new Set(err.expected), allowedNext(s), `${kind} ${toks.join(' ')}: expected sets differ`);
  }
  assert.ok(rejected > 1000);
});

test('fuel bound: used ≤ fuel always; exhaustion is reported; the needed fuel is exact', () => {
  const rng = createRng(17);
  let exhausted = 0;
  for (let i = 0; i < 3000; i++) {
    const p = randomProgram(rng, { stages: rng.range(1, MAX_STAGES) });
    const x = Array.from({ length: rng.range(0, MAX_LIST_LEN) }, () => rng.range(0, 9));
    const fuel = rng.range(0, 120);
    const r = run(p, x, { fuel });
    assert.ok(r.fuelUsed <= fuel);
    const full = run(p, x, { fuel: DEFAULT_FUEL });
    if (!full.ok) continue; // overflow on a long list; fuel is still bounded (checked above)
    if (r.ok) {
      assert.deepStrictEqual(r, full);
    } else {
      exhausted++;
      assert.ok(r.error instanceof FuelExhaustedError);
      assert.equal(r.error.code, 'DSL_FUEL_EXHAUSTED');
      assert.ok(full.fuelUsed > fuel);
    }
    assert.ok(run(p, x, { fuel: full.fuelUsed }).ok);
    if (full.fuelUsed > 0) assert.ok(!run(p, x, { fuel: full.fuelUsed - 1 }).ok);
  }
  assert.ok(exhausted > 100);
});

test('programs on the input domain never need more than 264 fuel nor leave the value limits silently', () => {
  const rng = createRng(18);
  for (let i = 0; i < 3000; i++) {
    const p = randomProgram(rng, { stages: rng.range(1, MAX_STAGES) });
    const x = randomInput(rng, { minLen: INPUT_MAX_LEN - 2 });
    const r = run(p, x, { fuel: 264 });
    if (!r.ok) { assert.equal(r.error.code, 'DSL_OVERFLOW'); continue; }
    assert.doesNotThrow(() => printValue(r.value));
  }
});

test('interpreter and generator are deterministic', () => {
  const a = createRng(19);
  const b = createRng(19);
  for (let i = 0; i < 500; i++) {
    const p = randomProgram(a, { stages: 4 });
    assert.deepStrictEqual(p, randomProgram(b, { stages: 4 }));
    const x = randomInput(a);
    assert.deepStrictEqual(x, randomInput(b));
    assert.deepStrictEqual(run(p, x), run(p, x));
  }
  assert.deepStrictEqual(generateTask(createRng(5), 'induction', 3), generateTask(createRng(5), 'induction', 3));
});

test('held-out set: deterministic, per-cell prefix-stable, distinct, valid, graded', () => {
  const h1 = heldOutSet(2024, 6);
  const h2 = heldOutSet(2024, 6);
  assert.deepStrictEqual(h1, h2);
  assert.equal(h1.length, 3 * 3 * 6);
  assert.notDeepStrictEqual(heldOutSet(2025, 6), h1);
  const small = heldOutSet(2024, 3);
  for (let c = 0; c < 9; c++) assert.deepStrictEqual(small.slice(c * 3, c * 3 + 3), h1.slice(c * 6, c * 6 + 3));
  const hashes = new Set(h1.map(taskHash));
  assert.equal(hashes.size, h1.length);
  for (const t of h1) {
    const lo = t.difficulty === 1 ? 1 : t.difficulty === 2 ? 3 : 5;
    assert.ok(t.program.stages.length >= lo && t.program.stages.length <= lo + 1);
    const v = validateProposal(t.type, { program: t.program, inputs: t.inputs }, { shown: t.shown });
    assert.ok(v.ok);
    assert.deepStrictEqual(v.task.outputs, t.outputs);
    assert.deepStrictEqual(judgeAnswer(t, renderAnswer(t)), { formatOk: true, correct: true, similarity: 1 });
    for (let i = 0; i < t.inputs.length; i++) assert.deepStrictEqual(execute(t.program, t.inputs[i]!).value, t.outputs[i]);
  }
});
