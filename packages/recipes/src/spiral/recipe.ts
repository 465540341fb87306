import { Type, type Static } from '@sinclair/typebox';
import type { Sample, Trajectory } from '@spar/core';
import type { Vocabulary } from '@spar/policy/schema';
import { exploitability, gamesVocabularySpec } from '../games/index.ts';
import type { JudgedGroup, Recipe } from '../recipe.ts';
import { evaluateSpiral, kuhnStrategy, SPIRAL_SUITES, type PlayMode } from './eval.ts';
import { TaskRejected } from '../errors.ts';
import { playSelf, replay, type EpisodeRecord } from './episodes.ts';
import { infoSetKeys, segmentName, type GameName } from './games.ts';
import { ANCHORS, playRatedMatch } from './match.ts';
import { promptFitIssues } from '../text-reply.ts';
import { actionTokens, movePromptFits } from './text.ts';

export const SpiralOptionsSchema = Type.Object({
  games: Type.Array(Type.Union([Type.Literal('tictactoe'), Type.Literal('kuhn')]), { minItems: 1, uniqueItems: true, default: ['tictactoe'] }),
  constrainActions: Type.Union([Type.Literal('none'), Type.Literal('format'), Type.Literal('legal')], {
    default: 'legal',
    description: "decoding mask: 'legal' = only moves legal in the position (action masking), 'format' = any action symbol, 'none' = open vocabulary; an illegal or unparseable move always loses",
  }),
  baseline: Type.Union([Type.Literal('seat'), Type.Literal('state')], {
    default: 'seat',
    description: "RAE key: 'seat' = one EMA baseline per (game, seat) as in SPIRAL; 'state' = one per (game, information set), i.e. a tabular Monte-Carlo value baseline (lower variance where it matters)",
  }),
  textActionTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192, description: 'text mode (warmStart.from: hf): the reply budget of each move (reasoning and \\boxed{move}) in the model\'s tokens, eos included (default 256); also the evaluation\'s and rated matches\'' })),
}, { additionalProperties: false });
export type SpiralOptions = Static<typeof SpiralOptionsSchema>;

export interface GameTask {
  readonly game: GameName;
  readonly seed: number;
}

const CHECKER = { checker: 'spiral-game-engine', version: '1' };

const playMode = (o: SpiralOptions): PlayMode => ({ constrain: o.constrainActions, textTokens: actionTokens(o) });

/** The snapshot a group played against: one for every episode, or none at all. */
function groupOpponent(episodes: readonly EpisodeRecord[]): number | undefined {
  const first = episodes[0]?.opponent;
  for (const ep of episodes) {
    const o = ep.opponent;
    if ((o === undefined) !== (first === undefined)) throw new TaskRejected('a group mixes self-play and snapshot episodes');
    if (!o) continue;
    if ((o.seat !== 0 && o.seat !== 1) || !Number.isInteger(o.version) || o.version < 0 || o.version !== first!.version) throw new TaskRejected(`bad opponent record ${JSON.stringify(o).slice(0, 100)}`);
  }
  return first?.version;
}

function asTask(t: unknown, o: SpiralOptions): GameTask {
  const x = t as Partial<GameTask> | null;
  if (!x || typeof x !== 'object' || !o.games.includes(x.game as GameName) || !Number.isInteger(x.seed) || (x.seed as number) < 0 || (x.seed as number) > 2 ** 31) {
    throw new TaskRejected(`not a task of this experiment: ${JSON.stringify(t)?.slice(0, 200)}`);
  }
  return { game: x.game as GameName, seed: x.seed as number };
}

/**
 * SPIRAL: zero-sum games where both seats are the current policy; RAE keyed by (game, seat).
 * Text mode (textMode; PolicyHandle.text present, warmStart.from: hf): an imported chat model plays
 * from SPIRAL's prompt and boxes its move (text.ts); nothing is masked.
 */
export const spiralGames: Recipe<SpiralOptions> = {
  name: 'spiral-games',
  description: 'Self-play on zero-sum games (TicTacToe, Kuhn Poker); both seats are the policy; role-conditioned advantages (RAE)',
  optionsSchema: SpiralOptionsSchema,
  proposesWithPolicy: false,
  textMode: true,
  defaultEstimator: { kind: 'rae', decay: 0.95 },
  vocabulary: () => [{ symbols: [...gamesVocabularySpec().symbols] }],
  segments: (o) => o.games.flatMap((g) => (o.baseline === 'state' ? infoSetKeys(g).map((k) => `${g}/${k}`) : [segmentName(g, 0), segmentName(g, 1)])),

  async propose(ctx) {
    // Tasks are fresh seeds (deals for Kuhn; TicTacToe has no chance moves), round-robin over games.
    return Array.from({ length: ctx.count }, () => {
      const game = ctx.config.options.games[Math.floor(ctx.rng() * ctx.config.options.games.length)]!;
      return { task: { game, seed: Math.floor(ctx.rng() * 2 ** 31) } satisfies GameTask };
    });
  },

  validateTask(task, o) {
    try {
      const t = asTask(task, o);
      return { valid: true, canonical: `${t.game}:${t.seed}`, task: t };
    } catch (err) {
      return { valid: false, reason: (err as Error).message };
    }
  },

  async rollout(ctx, task, groupSize) {
    const t = asTask(task, ctx.config.options);
    const { temperature, topP } = ctx.config.rollout;
    return playSelf(ctx.policy, t.game, t.seed, groupSize, { temperature, topP, ...playMode(ctx.config.options) }, ctx.opponent);
  },

  textPromptIssues: (config, codec, context) => promptFitIssues(movePromptFits(config.options.games, codec, config.options), context),
  optionsIssues: (o, text) => (text && o.constrainActions !== 'none'
    ? [{ path: '/constrainActions', message: `text mode (warmStart.from: hf) masks nothing: set it to none (an illegal or unparseable move loses either way), not ${o.constrainActions}` }] : []),

  judge(task, rollouts, _proposal: Sample | undefined, o, vocab: Vocabulary, _config, _copy, text): JudgedGroup {
    const t = asTask(task, o);
    const trajectories: Omit<Trajectory, 'trajectoryId'>[] = [];
    let illegal = 0;
    let turns = 0;
    let p0 = 0;
    const episodes = rollouts as EpisodeRecord[];
    const opponent = groupOpponent(episodes);
    let score = 0;
    for (const ep of episodes) {
      const r = replay(vocab, t.game, t.seed, ep, o.constrainActions, text ? { codec: text, tokens: actionTokens(o) } : undefined);
      p0 += r.returns[0];
      const learnerSeat = ep.opponent ? (1 - ep.opponent.seat) as 0 | 1 : undefined;
      if (learnerSeat !== undefined) score += r.returns[learnerSeat] > 0 ? 1 : r.returns[learnerSeat] < 0 ? 0 : 0.5;
      for (const turn of r.turns) {
        // The snapshot's moves were replayed (they shape the game) but are not the learner's to train.
        if (ep.opponent && turn.player === ep.opponent.seat) continue;
        turns++;
        if (!turn.legal) illegal++;
        trajectories.push({
          sample: turn.sample, reward: r.returns[turn.player], formatOk: turn.formatOk, correct: turn.legal,
          group: `${t.game}:${t.seed}`, segment: o.baseline === 'state' ? `${t.game}/${turn.infoSet}` : segmentName(t.game, turn.player),
        });
      }
    }
    const vs: Record<string, number> = opponent !== undefined && episodes.length ? { vsSnapshotScore: score / episodes.length } : {};
    return {
      trajectories, provenance: CHECKER,
      stats: { illegalMoveRate: turns ? illegal / turns : 0, meanReturnPlayer0: rollouts.length ? p0 / rollouts.length : 0, ...vs },
      ...(opponent !== undefined && episodes.length ? { opponent: { version: opponent, score: score / episodes.length, games: episodes.length } } : {}),
    };
  },

  anchors: (o) => ANCHORS[o.games[0]!],
  match: (a, b, opts, o) => playRatedMatch(o.games[0]!, a, b, opts, playMode(o)),
  leagueIssue: (o, league) => (o.games.length !== 1 ? `a league rates one game; options.games lists ${o.games.length}`
    : league.gating.by === 'exploitability' && o.games[0] !== 'kuhn' ? `gating.by: exploitability is computed exactly for kuhn only; ${o.games[0]} gates by match` : undefined),
  exploitability: async (policy, o) => {
    if (o.games.length !== 1 || o.games[0] !== 'kuhn') throw new Error(`exploitability is computed for kuhn only, not ${o.games.join(', ')}`);
    return exploitability((await kuhnStrategy(policy, playMode(o))).strategy);
  },

  evalSuites: (o) => SPIRAL_SUITES.filter((s) => (s === 'kuhn' ? o.games.includes('kuhn') : o.games.includes('tictactoe'))),
  evaluate: (policy, suites, opts, o) => evaluateSpiral(policy, suites, opts, playMode(o)),
};

