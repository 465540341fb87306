import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  GameOverError, IllegalMoveError, InvalidStateError, LINES, NotTerminalError, applyOrForfeit, minimaxPlayer, minimaxValue,
  optimalActions, playMatch, playTicTacToe, randomPlayer, reachableStates, seededRng, ticTacToe as T, ticTacToeFromBoard,
  vocabularySymbols, winnerMark, type Cell, type TicTacToeState,
} from '../src/games/index.ts';

const ALL = reachableStates();

function illegalReasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof IllegalMoveError);
    assert.equal(e.code, 'ILLEGAL_MOVE');
    return e.reason;
  }
  assert.fail('expected IllegalMoveError');
}

/** Greedy longest match over the declared symbols; fails on an uncovered character. */
function tokenize(text: string, symbols: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length;) {
    const best = symbols.filter((s) => text.startsWith(s, i)).sort((a, b) => b.length - a.length)[0];
    assert.ok(best !== undefined, `no symbol covers '${text[i]}' at ${i} in '${text}'`);
    out.push(best);
    i += best.length;
  }
  return out;
}

test('initial state: empty board, X to move, all 9 cells legal, no returns yet', () => {
  const s = T.initial();
  assert.equal(s.board, '.........');
  assert.equal(T.currentPlayer(s), 0);
  assert.deepEqual(T.legalActions(s), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(T.isTerminal(s), false);
  assert.throws(() => T.returns(s), NotTerminalError);
});

test('5478 reachable states; legality of every move in each of them', () => {
  assert.equal(ALL.length, 5478);
  for (const s of ALL) {
    Object.freeze(s);
    const mover = T.currentPlayer(s);
    if (T.isTerminal(s)) {
      assert.deepEqual(T.legalActions(s), []);
      for (let a = 0; a < 9; a++) {
        assert.equal(T.illegalReason(s, a), 'game-over');
        assert.equal(illegalReasonOf(() => T.apply(s, a)), 'game-over');
      }
      continue;
    }
    const empty = [...s.board].flatMap((c, i) => (c === '.' ? [i] : []));
    assert.deepEqual(T.legalActions(s), empty);
    for (let a = 0; a < 9; a++) {
      if (s.board[a] === '.') {
        assert.ok(T.isLegal(s, a) && T.isLegal(s, a, mover));
        const n = T.apply(s, a, mover);
        assert.equal(n.board[a], mover === 0 ? 'x' : 'o');
        assert.equal(n.board.slice(0, a) + n.board.slice(a + 1), s.board.slice(0, a) + s.board.slice(a + 1));
        assert.equal(T.currentPlayer(n), 1 - mover);
        assert.equal(illegalReasonOf(() => T.apply(s, a, mover === 0 ? 1 : 0)), 'wrong-turn');
      } else {
        assert.equal(T.isLegal(s, a), false);
        assert.equal(illegalReasonOf(() => T.apply(s, a)), 'occupied');
      }
    }
    for (const a of [-1, 9, 10, 1.5, Number.NaN]) assert.equal(illegalReasonOf(() => T.apply(s, a)), 'out-of-range');
  }
});

test('win detection on all 8 lines, for both marks; a full board without a line is a draw', () => {
  for (const line of LINES) {
    const others = ([0, 1, 2, 3, 4, 5, 6, 7, 8] as Cell[]).filter((c) => !line.includes(c));
    const xWin = [...'.........'];
    line.forEach((c) => (xWin[c] = 'x'));
    xWin[others[0] as number] = 'o';
    xWin[others[1] as number] = 'o';
    const sx = ticTacToeFromBoard(xWin.join(''));
    assert.ok(T.isTerminal(sx));
    assert.equal(winnerMark(sx.board), 'x');
    assert.deepEqual(T.returns(sx), [1, -1]);
    // O on the line, X on three other cells that do not form a line
    const triple = others.flatMap((a, i) => others.slice(i + 1).flatMap((b, j) => others.slice(i + j + 2).map((c) => [a, b, c])))
      .find((t) => !LINES.some((l) => l.every((c) => t.includes(c))));
    assert.ok(triple);
    const oWin = [...'.........'];
    line.forEach((c) => (oWin[c] = 'o'));
    triple.forEach((c) => (oWin[c] = 'x'));
    const so = ticTacToeFromBoard(oWin.join(''));
    assert.equal(winnerMark(so.board), 'o');
    assert.deepEqual(T.returns(so), [-1, 1]);
  }
  // by play: X completes the top row on its third move
  let s = T.initial();
  for (const a of [0, 3, 1, 4]) s = T.apply(s, a);
  assert.equal(T.isTerminal(s), false);
  s = T.apply(s, 2);
  assert.ok(T.isTerminal(s));
  assert.deepEqual(T.returns(s), [1, -1]);
  const draw = ticTacToeFromBoard('xoxxoxoxo');
  assert.ok(T.isTerminal(draw));
  assert.deepEqual(T.returns(draw), [0, 0]);
  assert.throws(() => ticTacToeFromBoard('xxx......'), InvalidStateError);
  assert.throws(() => ticTacToeFromBoard('xxxoooxo.'), InvalidStateError);
  assert.throws(() => ticTacToeFromBoard('x.o'), InvalidStateError);
});

test('an illegal move forfeits: offender -1, other +1, terminal and flagged', () => {
  const s = T.apply(T.initial(), 4); // O to move
  for (const [move, reason] of [['4', 'occupied'], ['9', 'unparseable'], ['a', 'unparseable'], ['', 'unparseable'], [4, 'occupied'], [12, 'out-of-range']] as const) {
    const r = applyOrForfeit(T, s, move);
    assert.equal(r.illegal, reason);
    assert.ok(T.isTerminal(r.state));
    assert.equal(T.forfeitedBy(r.state), 1);
    assert.deepEqual(T.returns(r.state), [1, -1]);
  }
  const wrongTurn = applyOrForfeit(T, s, 0, 0);
  assert.equal(wrongTurn.illegal, 'wrong-turn');
  assert.deepEqual(T.returns(wrongTurn.state), [-1, 1]);
  const ok = applyOrForfeit(T, s, ' 0 ');
  assert.equal(ok.illegal, undefined);
  assert.equal(ok.state.board, 'o...x....');
  assert.throws(() => T.forfeit(wrongTurn.state, 0), GameOverError);
  assert.equal(applyOrForfeit(T, wrongTurn.state, 1).illegal, 'game-over');
  assert.equal(s.board, '....x....', 'states are not mutated');
});

test('text formats: observation, action text, parsing, vocabulary coverage', () => {
  const s = T.apply(T.apply(T.initial(), 0), 4);
  assert.equal(T.observation(s, 0), 'ttt +0.1.2.3-4.5.6.7.8 x');
  assert.equal(T.observation(s, 1), 'ttt -0.1.2.3+4.5.6.7.8 o');
  assert.notEqual(T.infoSet(s, 0), T.infoSet(s, 1));
  for (let a = 0; a < 9; a++) assert.equal(T.parseAction(T.actionText(a)), a);
  for (const bad of ['9', '-1', '10', 'x', '', '4 4', '04']) assert.equal(T.parseAction(bad), undefined, bad);
  const symbols = vocabularySymbols();
  for (const st of ALL.filter((_, i) => i % 7 === 0)) {
    for (const p of [0, 1] as const) assert.equal(tokenize(T.observation(st, p), T.vocabularySymbols()).join(''), T.observation(st, p));
  }
  assert.deepEqual(tokenize('ttt +0.1.2.3-4.5.6.7.8 x', symbols), ['ttt', ' ', '+0', '.1', '.2', '.3', '-4', '.5', '.6', '.7', '.8', ' ', 'x']);
  for (let a = 0; a < 9; a++) assert.deepEqual(tokenize(T.actionText(a), symbols), [String(a)]);
});

/** Plain negamax over the whole subtree (no memo): value for the side to move. */
function negamax(s: TicTacToeState): number {
  if (T.isTerminal(s)) return T.returns(s)[T.currentPlayer(s)];
  let best = -Infinity;
  for (const a of T.legalActions(s)) best = Math.max(best, -negamax(T.apply(s, a)));
  return best;
}

test('minimax: empty board is a draw; values agree with plain negamax; known optimal replies', () => {
  assert.equal(minimaxValue(T.initial()), 0);
  assert.equal(negamax(T.initial()) + 0, 0);
  for (const s of ALL.filter((st, i) => i % 5 === 0 && st.board.split('.').length <= 7)) {
    const sign = T.currentPlayer(s) === 0 ? 1 : -1;
    assert.equal(minimaxValue(s), sign * negamax(s) + 0, s.board);
  }
  const after = (...moves: number[]): TicTacToeState => moves.reduce((st, a) => T.apply(st, a), T.initial());
  assert.deepEqual(optimalActions(T.initial()), [0, 1, 2, 3, 4, 5, 6, 7, 8], 'every first move draws');
  assert.deepEqual(optimalActions(after(4)), [0, 2, 6, 8], 'against the centre, only corners draw');
  assert.deepEqual(optimalActions(after(0)), [4], 'against a corner, only the centre draws');
  assert.deepEqual(optimalActions(after(1)), [0, 2, 4, 7], 'against an edge: adjacent corners, centre, opposite edge');
  assert.deepEqual(optimalActions(ticTacToeFromBoard('xx.oo....')).includes(2), true);
  assert.equal(minimaxValue(ticTacToeFromBoard('xx.oo....')), 1);
  assert.deepEqual(optimalActions(ticTacToeFromBoard('x.o.x....')), [8], 'O must block the diagonal');
  assert.deepEqual(optimalActions(ticTacToeFromBoard('xoxxoxoxo')), []);
  // every optimal action keeps the value, every other action is strictly worse for the mover
  for (const s of ALL.filter((st, i) => i % 11 === 0 && !T.isTerminal(st))) {
    const sign = T.currentPlayer(s) === 0 ? 1 : -1;
    const opt = new Set(optimalActions(s));
    assert.ok(opt.size > 0);
    for (const a of T.legalActions(s)) {
      const v = sign * minimaxValue(T.apply(s, a));
      assert.equal(opt.has(a), v === sign * minimaxValue(s));
      assert.ok(v <= sign * minimaxValue(s));
    }
  }
});

test('minimax vs minimax always draws; minimax never loses to random in either seat', () => {
  for (let g = 0; g < 40; g++) {
    const r = playTicTacToe(minimaxPlayer(seededRng(g)), minimaxPlayer(seededRng(1000 + g)), (g % 2) as 0 | 1);
    assert.equal(r.outcome, 'draw');
  }
  const tally = { win: 0, draw: 0, loss: 0 };
  for (let g = 0; g < 400; g++) {
    const seat = (g % 2) as 0 | 1;
    const r = playMatch(T, minimaxPlayer(seededRng(g)), randomPlayer(seededRng(7777 + g)), seat);
    assert.notEqual(r.outcome, 'loss', `game ${g}`);
    assert.equal(r.forfeited || r.opponentForfeited, false);
    tally[r.outcome]++;
  }
  assert.ok(tally.win > 250, `minimax should beat random most of the time: ${JSON.stringify(tally)}`);
});

test('playMatch with a text policy: raw text is parsed, garbage forfeits, outcomes from the policy seat', () => {
  const firstEmpty = (s: TicTacToeState): string => String(s.board.indexOf('.'));
  const r = playTicTacToe(firstEmpty, minimaxPlayer(seededRng(1)), 0);
  assert.equal(r.forfeited, false);
  assert.equal(r.outcome, 'loss');
  assert.equal(r.moves[0]?.move, '0');
  const g = playTicTacToe(() => 'move 4', randomPlayer(seededRng(2)), 1);
  assert.deepEqual([g.outcome, g.payoff, g.forfeited, g.illegal, g.moves.length], ['loss', -1, true, 'unparseable', 2]);
  const w = playTicTacToe(minimaxPlayer(seededRng(3)), () => 4, 0);
  assert.equal(w.outcome, 'win');
  assert.deepEqual([w.opponentForfeited, w.forfeited, w.illegal], [true, false, 'occupied'], 'the second 4 is occupied');
});
