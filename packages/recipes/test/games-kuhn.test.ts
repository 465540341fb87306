import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CARD_NAMES, DEALS, GameOverError, INFO_SETS, IllegalMoveError, InvalidStateError, InvalidStrategyError, KUHN_GAME_VALUE,
  MissingRngError, NotTerminalError, applyOrForfeit, bestResponse, createKuhnPoker, expectedPayoff, exploitability,
  kuhnDeal, kuhnPoker as K, nashStrategy, payoffVsNash, playMatch, profileValue, seededRng, strategyFrom,
  strategyPlayer, uniformStrategy, vocabularySymbols, withBestResponse,
  type Card, type KuhnAction, type KuhnState, type KuhnStrategy, type Player,
} from '../src/games/index.ts';

const EPS = 1e-12;
const DECISIONS = ['', 'p', 'b', 'pb'] as const;
const TERMINALS = ['pp', 'bp', 'bb', 'pbp', 'pbb'] as const;

function play(cards: readonly [Card, Card], history: string): KuhnState {
  return [...history].reduce((s, a) => K.apply(s, a as KuhnAction), kuhnDeal(cards));
}

/** Every state reachable without forfeits, for every deal. */
const STATES: KuhnState[] = DEALS.flatMap((d) => [...DECISIONS, ...TERMINALS].map((h) => play(d, h)));

test('payoffs of every terminal history for every deal; zero-sum', () => {
  for (const d of DEALS) {
    const hi = d[0] > d[1] ? 1 : -1;
    const expected: Record<string, number> = { pp: hi, bp: 1, bb: 2 * hi, pbp: -1, pbb: 2 * hi };
    for (const h of TERMINALS) {
      const s = play(d, h);
      assert.ok(K.isTerminal(s));
      assert.deepEqual(K.returns(s), [expected[h], -(expected[h] as number)], `${CARD_NAMES[d[0]]}${CARD_NAMES[d[1]]} ${h}`);
    }
    for (const h of DECISIONS) assert.throws(() => K.returns(play(d, h)), NotTerminalError);
  }
});

test('turns, legal and illegal actions', () => {
  for (const s of STATES) {
    Object.freeze(s);
    if (K.isTerminal(s)) {
      assert.deepEqual(K.legalActions(s), []);
      for (const a of ['p', 'b'] as const) {
        assert.equal(K.illegalReason(s, a), 'game-over');
        assert.throws(() => K.apply(s, a), (e) => e instanceof IllegalMoveError && e.reason === 'game-over' && e.code === 'ILLEGAL_MOVE');
      }
      assert.throws(() => K.forfeit(s, 0), GameOverError);
      continue;
    }
    const mover = K.currentPlayer(s);
    assert.equal(mover, s.history === '' || s.history === 'pb' ? 0 : 1);
    assert.deepEqual(K.legalActions(s), ['p', 'b']);
    for (const a of ['p', 'b'] as const) {
      assert.equal(K.apply(s, a, mover).history, s.history + a);
      assert.equal(K.illegalReason(s, a, (1 - mover) as Player), 'wrong-turn');
      assert.throws(() => K.apply(s, a, (1 - mover) as Player), (e) => e instanceof IllegalMoveError && e.reason === 'wrong-turn');
    }
    assert.throws(() => K.apply(s, 'x' as KuhnAction), (e) => e instanceof IllegalMoveError && e.reason === 'out-of-range');
  }
});

test('forfeits: the offender loses its committed chips (1 on its turn), or a flat 2 when configured', () => {
  const d: [Card, Card] = [2, 0];
  for (const h of DECISIONS) {
    const s = play(d, h);
    const mover = K.currentPlayer(s);
    for (const text of ['x', '', 'bet', 'pb']) {
      const r = applyOrForfeit(K, s, text);
      assert.equal(r.illegal, 'unparseable');
      assert.equal(K.forfeitedBy(r.state), mover);
      assert.deepEqual(K.returns(r.state), mover === 0 ? [-1, 1] : [1, -1], `${h} '${text}'`);
    }
    const harsh = createKuhnPoker({ forfeitLoss: 2 });
    assert.deepEqual(harsh.returns(harsh.forfeit(s, mover)), mover === 0 ? [-2, 2] : [2, -2]);
  }
  // out of turn after having bet: seat 0 at "b" has committed 2
  const r = applyOrForfeit(K, play(d, 'b'), 'p', 0);
  assert.equal(r.illegal, 'wrong-turn');
  assert.deepEqual(K.returns(r.state), [-2, 2]);
  assert.equal(applyOrForfeit(K, play(d, 'b'), ' b ').state.history, 'bb');
  assert.equal(applyOrForfeit(K, play(d, 'bb'), 'p').illegal, 'game-over');
});

test('observations hide the opponent card; equal across deals that differ only in it', () => {
  for (const s of STATES) {
    for (const p of [0, 1] as const) {
      const obs = K.observation(s, p);
      const own = CARD_NAMES[s.cards[p]];
      const other = CARD_NAMES[s.cards[1 - p] as Card];
      assert.equal(obs, `kuhn ${p} ${own}:${s.history}`);
      assert.ok(!obs.includes(other), obs);
      assert.equal(K.infoSet(s, p), `${own}:${s.history}`);
      // the same own card with the other possible opponent card looks the same
      const alt = ([0, 1, 2] as Card[]).find((c) => c !== s.cards[0] && c !== s.cards[1]) as Card;
      const swapped = { ...s, cards: (p === 0 ? [s.cards[0], alt] : [alt, s.cards[1]]) as [Card, Card] };
      assert.equal(K.observation(swapped, p), obs);
    }
  }
  const symbols = vocabularySymbols();
  for (const s of STATES) {
    for (const p of [0, 1] as const) for (const ch of K.observation(s, p).replace('kuhn', '')) assert.ok(symbols.includes(ch), ch);
  }
  assert.ok(symbols.includes('kuhn') && symbols.includes('ttt'));
  assert.equal(new Set(symbols).size, symbols.length);
  for (const a of ['p', 'b'] as const) assert.equal(K.parseAction(K.actionText(a)), a);
  for (const bad of ['pass', 'B', 'pb', '', 'x']) assert.equal(K.parseAction(bad), undefined);
});

test('dealing: deterministic for a seed, all 6 deals about equally often, rng required', () => {
  const deals = (seed: number): string[] => {
    const rng = seededRng(seed);
    return Array.from({ length: 200 }, () => K.initial(rng).cards.join(''));
  };
  assert.deepEqual(deals(42), deals(42));
  assert.notDeepEqual(deals(42), deals(43));
  const rng = seededRng(7);
  const counts = new Map<string, number>();
  for (let i = 0; i < 6000; i++) {
    const c = K.initial(rng).cards.join('');
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const [deal, n] of counts) assert.ok(n > 850 && n < 1150, `${deal}: ${n}`);
  assert.throws(() => K.initial(), MissingRngError);
  assert.throws(() => kuhnDeal([1, 1]), InvalidStateError);
});

test('12 information sets, 6 per seat, named card:history', () => {
  assert.equal(INFO_SETS.length, 12);
  assert.deepEqual(INFO_SETS.filter((i) => i.player === 0).map((i) => i.name), ['J:', 'Q:', 'K:', 'J:pb', 'Q:pb', 'K:pb']);
  assert.deepEqual(INFO_SETS.filter((i) => i.player === 1).map((i) => i.name), ['J:p', 'Q:p', 'K:p', 'J:b', 'Q:b', 'K:b']);
  assert.throws(() => exploitability({ ...uniformStrategy(), 'Q:b': 1.5 }), InvalidStrategyError);
  const { ['K:b']: _dropped, ...missing } = uniformStrategy();
  assert.throws(() => exploitability(missing as KuhnStrategy), (e) => e instanceof InvalidStrategyError && e.infoSet === 'K:b');
  assert.throws(() => nashStrategy(0.5), InvalidStrategyError);
});

test('Nash family: exploitability 0, game value -1/18 for seat 0, for every alpha and across alphas', () => {
  const alphas = [0, 1 / 12, 1 / 6, 1 / 4, 1 / 3];
  for (const a of alphas) {
    const n = nashStrategy(a);
    assert.ok(Math.abs(exploitability(n)) < EPS, `alpha ${a}: ${exploitability(n)}`);
    assert.ok(Math.abs(bestResponse(n, 0).value - KUHN_GAME_VALUE) < EPS);
    assert.ok(Math.abs(bestResponse(n, 1).value + KUHN_GAME_VALUE) < EPS);
    for (const b of alphas) assert.ok(Math.abs(profileValue(n, nashStrategy(b)) - KUHN_GAME_VALUE) < EPS);
    const vs = payoffVsNash(n);
    assert.ok(Math.abs(vs.seat0 + 1 / 18) < EPS && Math.abs(vs.seat1 - 1 / 18) < EPS && Math.abs(vs.mean) < EPS);
  }
  assert.equal(KUHN_GAME_VALUE, -1 / 18);
});

test('perturbing any information set of an interior Nash strategy makes it exploitable', () => {
  const n = nashStrategy(1 / 6); // every information set is reached
  for (const i of INFO_SETS) {
    for (const delta of [0.05, -0.05]) {
      const p = n[i.name] + delta;
      if (p < 0 || p > 1) continue;
      const e = exploitability({ ...n, [i.name]: p });
      assert.ok(e > 1e-4, `${i.name} ${delta}: ${e}`);
    }
  }
});

test('uniform random: exploitability 11/24 = 0.4583; its payoffs against Nash', () => {
  const u = uniformStrategy();
  assert.ok(Math.abs(exploitability(u) - 11 / 24) < EPS, String(exploitability(u)));
  assert.ok(Math.abs(bestResponse(u, 0).value - 1 / 2) < EPS);
  assert.ok(Math.abs(bestResponse(u, 1).value - 5 / 12) < EPS);
  assert.ok(Math.abs(profileValue(u, u) - 1 / 8) < EPS);
  const vs = payoffVsNash(u);
  assert.ok(vs.seat0 < KUHN_GAME_VALUE && vs.seat1 < -KUHN_GAME_VALUE && vs.mean < 0);
});

/** The 64 pure strategies of one seat, as full strategies (other seat's entries from `base`). */
function pureStrategies(base: KuhnStrategy, seat: Player): KuhnStrategy[] {
  const own = INFO_SETS.filter((i) => i.player === seat);
  return Array.from({ length: 64 }, (_, m) => strategyFrom((i) => {
    const k = own.indexOf(i);
    return k < 0 ? base[i.name] : (m >> k) & 1;
  }));
}

test('best response equals the best of all 64 pure strategies and is attained; payoffs are antisymmetric', () => {
  const rng = seededRng(11);
  for (let t = 0; t < 6; t++) {
    const s = strategyFrom(() => rng());
    for (const seat of [0, 1] as const) {
      const br = bestResponse(s, seat);
      const best = Math.max(...pureStrategies(s, seat).map((p) => expectedPayoff(p, s, seat)));
      assert.ok(Math.abs(br.value - best) < EPS, `${br.value} vs ${best}`);
      assert.ok(Math.abs(expectedPayoff(withBestResponse(s, br), s, seat) - br.value) < EPS);
    }
    const o = strategyFrom(() => rng());
    assert.ok(Math.abs(expectedPayoff(s, o, 0) + expectedPayoff(o, s, 1)) < EPS);
    assert.ok(exploitability(s) > 0);
  }
});

test('the exact value agrees with sampled play (engine and analysis consistent)', () => {
  const a = strategyFrom((i) => (i.card + 1) / 4);
  const b = uniformStrategy();
  const rng = seededRng(5);
  let total = 0;
  const hands = 20000;
  for (let h = 0; h < hands; h++) {
    const seat = (h % 2) as Player;
    total += playMatch(K, strategyPlayer(a, rng), strategyPlayer(b, rng), seat, rng).payoff;
  }
  const exact = (expectedPayoff(a, b, 0) + expectedPayoff(a, b, 1)) / 2;
  assert.ok(Math.abs(total / hands - exact) < 0.04, `${total / hands} vs ${exact}`);
});
