import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ConfigError } from '../src/errors.ts';
import {
  BOS_ID, EOS_ID, FIXED_SPECIALS, PAD_ID, SEP_ID, UNK_ID, UnknownSymbolError, UnknownTokenIdError, Vocabulary,
  type Tokenizer, type VocabularySpec,
} from '../src/vocab/index.ts';

const arith: VocabularySpec = { symbols: [...'0123456789', '+', '-', '*', '=', '<', '<=', '>', '>=', ' '], specials: ['<proposer>', '<solver>'] };
const code: VocabularySpec = { symbols: ['def', 'd', 'e', 'f', '(', ')', ':', ' ', 'return'], specials: ['<solver>', '<bet>'] };

test('ids: fixed specials, then declared specials, then symbols in first-declared order', () => {
  const v = Vocabulary.create([arith, code]);
  assert.deepEqual([PAD_ID, BOS_ID, EOS_ID, SEP_ID, UNK_ID], [0, 1, 2, 3, 4]);
  FIXED_SPECIALS.forEach((s, i) => assert.equal(v.id(s), i));
  assert.equal(v.id('<proposer>'), 5);
  assert.equal(v.id('<solver>'), 6);
  assert.equal(v.id('<bet>'), 7, 'specials of later specs come before any symbol');
  assert.equal(v.id('0'), 8);
  assert.equal(v.specialCount, 8);
  // ' ' is declared by both specs but appears once, at its first position
  assert.equal(v.size, 8 + 19 + 8);
  assert.equal(v.symbol(v.id(' ')), ' ');
  assert.equal(v.id('def'), v.id('return') - 7, "' ' is not repeated between them");
  assert.ok(v.isSpecial(v.id('<bet>')) && !v.isSpecial(v.id('def')));
  const again = Vocabulary.create([arith, code, arith]);
  assert.deepEqual(again.toJSON(), v.toJSON(), 'merging is idempotent');
});

test('greedy longest match: "<=" is one token, "<" alone is another', () => {
  const v: Tokenizer = Vocabulary.create([arith]);
  assert.deepEqual([...v.encode('1<=2')], [v.id('1'), v.id('<='), v.id('2')]);
  assert.deepEqual([...v.encode('1<2')], [v.id('1'), v.id('<'), v.id('2')]);
  assert.deepEqual([...v.encode('<<=')], [v.id('<'), v.id('<=')]);
  assert.deepEqual([...v.encode('<=<')], [v.id('<='), v.id('<')]);
  const c = Vocabulary.create([code]);
  assert.deepEqual([...c.encode('def')], [c.id('def')]);
  assert.deepEqual([...c.encode('de')], [c.id('d'), c.id('e')], 'falls back when the longer symbol does not complete');
  assert.deepEqual([...c.encode('deff')], [c.id('def'), c.id('f')]);
});

test('specials written in text encode to their ids; encode/decode round-trips', () => {
  const v = Vocabulary.create([arith, code]);
  const text = '<bos><proposer>12+3<sep><solver>def f(): return 15<eos>';
  const ids = v.encode(text);
  assert.ok(ids instanceof Int32Array);
  assert.equal(ids[0], BOS_ID);
  assert.equal(ids[1], v.id('<proposer>'));
  assert.ok(ids.includes(SEP_ID) && ids.includes(v.id('<solver>')) && ids.at(-1) === EOS_ID);
  assert.equal(v.decode(ids), text);
  assert.equal(v.decode([]), '');
  assert.deepEqual([...v.encode('')], []);
  // a '<' symbol next to a special still prefers the special
  assert.deepEqual([...v.encode('<<solver>')], [v.id('<'), v.id('<solver>')]);
});

test('uncovered characters: <unk> by default, typed error in strict mode', () => {
  const v = Vocabulary.create([arith]);
  assert.deepEqual([...v.encode('1x2')], [v.id('1'), UNK_ID, v.id('2')]);
  assert.deepEqual([...v.encode('1😀2')], [v.id('1'), UNK_ID, v.id('2')], 'one <unk> per code point, not per UTF-16 unit');
  assert.equal(v.decode(v.encode('1x2')), '1<unk>2');
  assert.throws(() => v.encode('12 + y', { strict: true }), (e: unknown) => {
    assert.ok(e instanceof UnknownSymbolError);
    assert.equal(e.code, 'UNKNOWN_SYMBOL');
    assert.equal(e.symbol, 'y');
    assert.equal(e.index, 5);
    assert.match(e.message, /"y" \(U\+0079\) at index 5/);
    return true;
  });
  assert.throws(() => v.encode('😀', { strict: true }), (e: unknown) => e instanceof UnknownSymbolError && e.symbol === '😀');
  assert.throws(() => v.id('nope'), UnknownSymbolError);
  assert.throws(() => v.decode([1, 999]), (e: unknown) => e instanceof UnknownTokenIdError && e.id === 999 && e.index === 1);
  assert.throws(() => v.symbol(-1), UnknownTokenIdError);
  assert.throws(() => v.symbol(1.5), UnknownTokenIdError);
});

test('JSON round-trip is exact and checked', () => {
  const v = Vocabulary.create([arith, code]);
  const json = v.toJSON();
  assert.equal(json.format, 'spar-vocab/1');
  assert.equal(json.algorithm, 'greedy-longest-match');
  const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
  assert.deepEqual(back.toJSON(), json);
  assert.equal(back.sha256, v.sha256);
  const text = '<solver>def f(): return 1<=2';
  assert.deepEqual(back.encode(text), v.encode(text));

  // the documented hash definition (as a Python port would compute it)
  const expected = createHash('sha256')
    .update(`${json.specials.map((s) => `${s}\0`).join('')}\0${json.symbols.map((s) => `${s}\0`).join('')}`, 'utf8').digest('hex');
  assert.equal(json.sha256, expected);

  const bad = (patch: object, path: RegExp) => assert.throws(() => Vocabulary.fromJSON({ ...json, ...patch }), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match(e.issues[0]!.path, path);
    return true;
  });
  bad({ sha256: '0'.repeat(64) }, /\/sha256/);
  bad({ symbols: [...json.symbols, '?'] }, /\/sha256/);
  bad({ format: 'spar-vocab/2' }, /\/format/);
  bad({ algorithm: 'bpe' }, /\/algorithm/);
  bad({ specials: json.specials.slice(1) }, /\/specials\/0/);
  bad({ symbols: [...json.symbols, json.symbols[0]] }, /\/symbols\/\d+/);
  bad({ extra: 1 }, /^\/$/);
  assert.throws(() => Vocabulary.fromJSON(null), ConfigError);
});

test('invalid specs are ConfigErrors naming the field', () => {
  const issues = (specs: unknown) => {
    try {
      Vocabulary.create(specs as VocabularySpec[]);
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.issues.map((i) => `${i.path} ${i.message}`);
    }
    assert.fail('expected a ConfigError');
  };
  assert.match(issues([])[0]!, /at least one spec/);
  assert.match(issues([{ symbols: [] }])[0]!, /declares no symbols/);
  assert.match(issues([{ symbols: [], specials: ['<x>'] }])[0]!, /no symbols declared/);
  assert.match(issues([{ symbols: ['a', ''] }])[0]!, /^\/0\/symbols\/1 empty token/);
  assert.match(issues([{ symbols: ['a', 7] }])[0]!, /^\/0\/symbols\/1 must be a string/);
  assert.match(issues([{ symbols: ['a\0b'] }])[0]!, /U\+0000/);
  assert.match(issues([{ symbols: ['\uD800'] }])[0]!, /lone surrogate/);
  assert.match(issues([{ symbols: ['a', '<pad>'] }])[0]!, /^\/0\/symbols\/1 "<pad>" is declared as a symbol here but as a special/);
  assert.match(issues([{ symbols: ['<x>'] }, { symbols: ['a'], specials: ['<x>'] }])[0]!, /^\/0\/symbols\/0 .*special at \/1\/specials\/0/);
  assert.match(issues([{ symbols: ['a'], alphabet: ['b'] }])[0]!, /unknown key/);
});
