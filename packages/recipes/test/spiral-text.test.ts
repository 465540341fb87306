import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseExperiment, type ExperimentConfig, type Sample } from '@spar/core';
import { loadHfPolicy, type TextCodec } from '@spar/policy';
import { tinyChatFixture, type TinyChatFixture, type TinyChatModel } from '@spar/testing/tiny-chat-model';
import { exploitability, strategyFrom, type Player } from '../src/games/index.ts';
import { builtinRecipes, policyHandle, spiralGames, TaskRejected, vocabularyFor, type GameTask, type PolicyHandle, type SpiralOptions } from '../src/index.ts';
import type { EpisodeRecord } from '../src/spiral/episodes.ts';
import { GAMES, initialState, type GameName } from '../src/spiral/games.ts';
import { applyMove } from '../src/spiral/moves.ts';
import { GAME_INTRO, MOVE_RULE, observationText, readMove, textGamePrompt } from '../src/spiral/text.ts';

// spiral-games' text mode on an imported chat model (warmStart.from: hf): SPIRAL's chat prompt
// with the position in words, the move read from the last \boxed{…}, the judge re-reading every
// turn from its ids, and real games, evaluations and rated matches with a tiny model.
const registry = builtinRecipes();
const CONTEXT = 2048;
let fx: TinyChatFixture;
let tiny: TinyChatModel;
let codec: TextCodec;

before(async () => {
  fx = await tinyChatFixture('spar-spiral-text-', { context: CONTEXT });
  ({ tiny, codec } = fx);
});
after(() => fx?.close());

const configFor = (options: object = {}) => parseExperiment({
  name: 't', recipe: 'spiral-games', policy: { context: CONTEXT }, rollout: { groupSize: 4 },
  options: { games: ['tictactoe'], constrainActions: 'none', textActionTokens: 24, ...options },
  warmStart: { from: 'hf', path: tiny.dir },
}, registry) as ExperimentConfig<SpiralOptions>;

const imEnd = () => tiny.vocab.id('<|im_end|>');
const turnSample = (prompt: readonly number[], text: string, player: Player, end = true): Sample => {
  const resp = [...codec.encode(text), ...(end ? [imEnd()] : [])];
  return { tokens: [...prompt, ...resp], promptLength: prompt.length, logprobs: resp.map(() => -1), allowed: resp.map(() => null), policyVersion: 1, role: `player${player}` };
};

/** An episode whose turns reply `texts` in order, each to the engine's own prompt for the position. */
function episode(game: GameName, seed: number, texts: readonly string[], index = 0): EpisodeRecord {
  const g = GAMES[game];
  let state = initialState(game, seed, index);
  const turns = texts.map((text) => {
    const player = g.currentPlayer(state);
    const sample = turnSample(textGamePrompt(codec, game, state, player), text, player);
    state = applyMove(game, state, readMove(game, state, text, true).move, player).state;
    return { player, sample };
  });
  return { index, turns };
}

describe('spiral-games text mode: config', () => {
  test('warmStart.from: hf is accepted with constrainActions: none; a mask in text mode is refused with the reason', () => {
    const c = configFor();
    assert.equal(c.options.textActionTokens, 24);
    assert.ok(spiralGames.textMode);
    assert.throws(() => configFor({ constrainActions: 'legal' }), (e: Error & { issues?: { path: string; message: string }[] }) =>
      e.issues!.some((i) => i.path === '/options/constrainActions' && /masks nothing: set it to none/.test(i.message)));
    const plain = parseExperiment({ name: 't', recipe: 'spiral-games' }, registry) as ExperimentConfig<SpiralOptions>;
    assert.equal(plain.options.constrainActions, 'legal', 'symbol mode keeps its default');
    assert.ok(!('textActionTokens' in plain.options), 'no text option appears in a symbol-mode config');
  });
});

describe('spiral-games text mode: formats', () => {
  test('TicTacToe in words: the board with cell numbers, the mover\'s mark, the legal moves', () => {
    const g = GAMES.tictactoe;
    const s = g.apply(g.apply(initialState('tictactoe', 1, 0), 4, 0), 0, 1);
    const text = observationText('tictactoe', s, 0);
    assert.ok(text.includes(' O | 1 | 2\n---+---+---\n 3 | X | 5\n---+---+---\n 6 | 7 | 8'), text);
    assert.ok(text.includes('You are X, your opponent is O.'));
    assert.ok(text.endsWith('Your move is the number of an empty cell: 1, 2, 3, 5, 6, 7, 8.'));
    assert.ok(observationText('tictactoe', s, 1).includes('You are O, your opponent is X.'));
  });

  test('Kuhn in words: own card only, the history, the moves offered (check/bet, or call/fold facing a bet)', () => {
    const k = GAMES.kuhn;
    const start = initialState('kuhn', 3, 0) as { cards: [number, number] };
    const names = ['J', 'Q', 'K'];
    const opening = observationText('kuhn', start, 0);
    assert.ok(opening.includes(`You are Player 0. Your card: ${names[start.cards[0]]}. So far: nobody has acted yet.`), opening);
    assert.ok(!opening.includes(`Your card: ${names[start.cards[1]]}`));
    assert.ok(opening.endsWith('Your move: check (bet nothing) or bet (put in 1 chip).'));
    const facing = observationText('kuhn', k.apply(k.apply(start, 'p'), 'b'), 0);
    assert.ok(facing.includes('So far: Player 0 checked, Player 1 bet 1 chip.'), facing);
    assert.ok(facing.endsWith('Your move: call (put in 1 chip to match the bet) or fold (give up the pot).'));
  });

  test('the move is the last \\boxed{…} of a reply that ended; Kuhn words map to p/b only where offered', () => {
    const ttt = initialState('tictactoe', 1, 0);
    assert.deepEqual(readMove('tictactoe', ttt, 'I take the centre. \\boxed{4}', true), { move: '4', formatOk: true });
    assert.deepEqual(readMove('tictactoe', ttt, '\\boxed{3} no, \\boxed{ [8] }', true), { move: '8', formatOk: true });
    assert.deepEqual(readMove('tictactoe', ttt, '\\boxed{4}', false), { formatOk: false }, 'a reply cut off by its budget is malformed');
    assert.deepEqual(readMove('tictactoe', ttt, 'four', true), { formatOk: false });
    assert.deepEqual(readMove('tictactoe', ttt, '\\boxed{9}', true), { formatOk: true }, 'boxed, but no move: illegal');
    const k = GAMES.kuhn;
    const open = initialState('kuhn', 1, 0);
    assert.deepEqual(readMove('kuhn', open, '\\boxed{Bet}', true), { move: 'b', formatOk: true });
    assert.deepEqual(readMove('kuhn', open, '\\boxed{check}', true), { move: 'p', formatOk: true });
    assert.deepEqual(readMove('kuhn', open, '\\boxed{call}', true), { formatOk: true }, 'no bet to call');
    const facing = k.apply(open, 'b');
    assert.deepEqual(readMove('kuhn', facing, '\\boxed{fold}', true), { move: 'p', formatOk: true });
    assert.deepEqual(readMove('kuhn', facing, '\\boxed{[call]}', true), { move: 'b', formatOk: true });
    assert.deepEqual(readMove('kuhn', facing, '\\boxed{bet}', true), { formatOk: true }, 'facing a bet, bet is not offered');
  });

  test('the prompt is SPIRAL\'s, one user turn through the chat template', () => {
    const s = initialState('tictactoe', 1, 0);
    const text = codec.decode(textGamePrompt(codec, 'tictactoe', s, 0));
    assert.equal(text, `<|im_start|>user\n${GAME_INTRO}\nObservation: ${observationText('tictactoe', s, 0)}\n${MOVE_RULE}<|im_end|>\n<|im_start|>assistant\n`);
  });
});

describe('spiral-games text mode: the judge replays every turn from its ids', () => {
  const judge = (task: GameTask, eps: readonly EpisodeRecord[], options: object = {}) => {
    const c = configFor(options);
    return spiralGames.judge(task, eps, undefined, c.options, vocabularyFor(spiralGames, c), c, undefined, codec);
  };

  test('a game won in text: the engine\'s outcome, every turn formatOk and legal, nothing masked', () => {
    const task = { game: 'tictactoe', seed: 5 } as const;
    const g = judge(task, [episode('tictactoe', 5, ['\\boxed{0}', 'hmm \\boxed{4}', '\\boxed{1}', '\\boxed{8}', 'win: \\boxed{2}'])]);
    assert.deepEqual(g.trajectories.map((t) => [t.reward, t.formatOk, t.correct, t.segment]), [
      [1, true, true, 'tictactoe/player0'], [-1, true, true, 'tictactoe/player1'], [1, true, true, 'tictactoe/player0'], [-1, true, true, 'tictactoe/player1'], [1, true, true, 'tictactoe/player0'],
    ]);
    assert.ok(g.trajectories.every((t) => t.sample.allowed === undefined));
    assert.equal(g.stats!.illegalMoveRate, 0);
  });

  test('a malformed reply and an illegal move each forfeit: the mover loses, formatOk tells them apart', () => {
    const task = { game: 'tictactoe', seed: 5 } as const;
    const g = judge(task, [episode('tictactoe', 5, ['no idea'], 0), episode('tictactoe', 5, ['\\boxed{4}', '\\boxed{4}'], 1)]);
    assert.deepEqual(g.trajectories.map((t) => [t.reward, t.formatOk, t.correct]), [[-1, false, false], [1, true, true], [-1, true, false]]);
    assert.equal(g.stats!.illegalMoveRate, 2 / 3);
    assert.equal(g.stats!.meanReturnPlayer0, 0);
  });

  test('Kuhn in words: bet then fold, seat 0 takes the pot', () => {
    const task = { game: 'kuhn', seed: 9 } as const;
    const g = judge(task, [episode('kuhn', 9, ['\\boxed{bet}', '\\boxed{fold}'])], { games: ['kuhn'] });
    assert.deepEqual(g.trajectories.map((t) => [t.reward, t.formatOk, t.correct, t.segment]), [[1, true, true, 'kuhn/player0'], [-1, true, true, 'kuhn/player1']]);
  });

  test('a turn whose prompt is not the engine\'s, an over-budget reply, an unfinished game: the group is rejected', () => {
    const task = { game: 'tictactoe', seed: 5 } as const;
    const ep = episode('tictactoe', 5, ['no idea']);
    const other = textGamePrompt(codec, 'tictactoe', GAMES.tictactoe.apply(initialState('tictactoe', 5, 0), 4, 0), 1);
    const tampered = { ...ep, turns: [{ ...ep.turns[0]!, sample: turnSample(other, 'x', 0) }] };
    assert.throws(() => judge(task, [tampered]), (e: Error) => e instanceof TaskRejected && /prompt does not match/.test(e.message));
    assert.throws(() => judge(task, [episode('tictactoe', 5, ['x'.repeat(40)])]), (e: Error) => e instanceof TaskRejected && /exceeds 24/.test(e.message));
    assert.throws(() => judge(task, [episode('tictactoe', 5, ['\\boxed{0}'])]), (e: Error) => e instanceof TaskRejected && /terminal/.test(e.message));
  });
});

describe('spiral-games text mode with a real model', () => {
  test('self-play, judging, evaluation and a rated match through the chat prompts, never an error', async () => {
    const { policy } = await loadHfPolicy(tiny.dir, { context: CONTEXT, worker: false });
    fx.policies.push(policy);
    for (const game of ['tictactoe', 'kuhn'] as const) {
      const config = configFor({ games: [game] });
      const handle: PolicyHandle = policyHandle(vocabularyFor(spiralGames, config), policy, codec);
      const task = { game, seed: 11 };
      const records = await spiralGames.rollout({ config, policy: handle, rng: Math.random }, task, 16) as EpisodeRecord[];
      assert.equal(records.length, 16);
      for (const r of records) {
        for (const t of r.turns) {
          assert.ok(codec.decode(t.sample.tokens.slice(0, t.sample.promptLength)).startsWith(`<|im_start|>user\n${GAME_INTRO}`));
          assert.ok(t.sample.tokens.length - t.sample.promptLength <= 24);
        }
      }
      const g = spiralGames.judge(task, records, undefined, config.options, vocabularyFor(spiralGames, config), config, undefined, codec);
      assert.equal(g.trajectories.length, records.reduce((n, r) => n + r.turns.length, 0));
      if (game === 'kuhn') {
        // The bigram model boxes digits, never a poker word: every first move forfeits.
        assert.ok(g.trajectories.every((t) => !t.correct && t.reward === -1 && t.segment === 'kuhn/player0'));
        const report = await spiralGames.evaluate(handle, ['kuhn'], { episodes: 4, seed: 3 }, config.options);
        assert.equal(report.kuhn!.forfeitRate, 1);
        assert.equal(report.kuhn!.exploitability, exploitability(strategyFrom(() => 0)), 'forfeits count as passes');
      } else {
        // It boxes a digit 1–9 about half the time: some moves are legal, some forfeit.
        assert.ok(g.trajectories.some((t) => t.correct) && g.trajectories.some((t) => !t.correct), JSON.stringify(g.trajectories.map((t) => t.correct)));
        const report = await spiralGames.evaluate(handle, ['tictactoe-vs-random', 'tictactoe-vs-minimax'], { episodes: 6, seed: 3 }, config.options);
        for (const r of Object.values(report)) {
          assert.equal(r.games, 6);
          assert.ok(Math.abs(r.winRate! + r.drawRate! + r.lossRate! - 1) < 1e-9);
          assert.ok(r.forfeitRate! > 0);
        }
        const score = await spiralGames.match!(handle, 'random', { games: 4, seed: 2 }, config.options);
        assert.equal(score.games, 4);
      }
    }
  });
});

describe('spiral-games text mode: prompts must leave the move budget within the context (checked at submit)', () => {
  test('the longest TicTacToe prompt is the empty board\'s; too small a context is an issue naming both figures', () => {
    const config = configFor({ textActionTokens: 100 });
    const longest = textGamePrompt(codec, 'tictactoe', initialState('tictactoe', 1, 0), 0).length;
    assert.deepEqual(spiralGames.textPromptIssues!(config, codec, longest + 100), []);
    const issues = spiralGames.textPromptIssues!(config, codec, longest + 99);
    assert.deepEqual(issues.map((i) => i.path), ['/policy/context']);
    assert.match(issues[0]!.message, new RegExp(`longest tictactoe move prompt is ${longest} tokens .*textActionTokens 100 it needs a context of ≥ ${longest + 100}, and the experiment runs ${longest + 99}`));
    const both = spiralGames.textPromptIssues!(configFor({ games: ['tictactoe', 'kuhn'] }), codec, 300);
    assert.equal(both.length, 2, 'one issue per game');
  });
});
