import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectedScore, performanceRating, scoreOf } from '../src/rating.ts';

test('performance rating: even score = the opponent\'s rating; 76 % ≈ +200 Elo (shrunk by one virtual draw); perfect scores stay finite', () => {
  assert.ok(Math.abs(performanceRating([{ opponentRating: 300, games: 100, score: 50 }]) - 300) < 1e-6);
  const r = performanceRating([{ opponentRating: 0, games: 1000, score: 760 }]);
  assert.ok(r > 190 && r < 205, `${r}`);
  const perfect = performanceRating([{ opponentRating: 0, games: 200, score: 200 }]);
  assert.ok(Number.isFinite(perfect) && perfect > 700 && perfect < 1200, `${perfect}`);
  assert.ok(performanceRating([{ opponentRating: 0, games: 200, score: 0 }]) < -700);
  // Monotone in the score, and consistent across opponents: results that fit rating 150 exactly give 150.
  const fit = [0, 400].map((opp) => ({ opponentRating: opp, games: 999, score: 1000 * expectedScore(150, opp) - 0.5 }));
  assert.ok(Math.abs(performanceRating(fit) - 150) < 1e-6, `${performanceRating(fit)}`);
  assert.ok(performanceRating([{ opponentRating: 0, games: 10, score: 6 }]) < performanceRating([{ opponentRating: 0, games: 10, score: 7 }]));
  assert.throws(() => performanceRating([]), /no games/);
  assert.equal(scoreOf({ wins: 3, draws: 2, games: 10 }), 0.4);
  assert.equal(scoreOf({ wins: 0, draws: 0, games: 0 }), 0.5);
});
