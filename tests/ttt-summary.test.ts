import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExperimentRecord } from '@spar/core';
import { bestHistory, firstTargetHit, shouldStop, spread, summariseRun, summariseRuns, targetMet } from '../bench/ttt-summary.ts';

// The pure parts of bench/time-to-target.ts (--runs): targets, when a run stops, the summaries.

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const ttt = (nonLoss: number, draws: number) => ({
  'tictactoe-vs-random': { winRate: nonLoss - 0.05, drawRate: 0.05, lossRate: 1 - nonLoss, games: 200 },
  'tictactoe-vs-minimax': { winRate: 0, drawRate: draws, lossRate: 1 - draws, games: 200 },
});
const MISS = ttt(0.9, 0.5);
const HIT = ttt(0.97, 0.85);

function rec(over: Partial<ExperimentRecord> = {}): ExperimentRecord {
  return {
    id: 'e1', config: {}, state: 'stopped', createdAt: at(0), step: 400, policyVersion: 400, metrics: {},
    evaluations: [
      { step: 50, at: at(60), eval: MISS },
      { step: 100, at: at(120), eval: HIT },
      { step: 150, at: at(180), eval: MISS },
      { step: 200, at: at(240), eval: HIT },
    ],
    ...over,
  };
}

test('targets: TicTacToe non-loss and draws vs minimax, Kuhn exploitability, unknown suites', () => {
  assert.equal(targetMet(HIT), true);
  assert.equal(targetMet(MISS), false);
  assert.equal(targetMet(ttt(0.97, 0.79)), false, 'draws vs minimax below 80 %');
  assert.equal(targetMet({ kuhn: { exploitability: 0.09 } }), true);
  assert.equal(targetMet({ kuhn: { exploitability: 0.1 } }), false);
  assert.equal(targetMet({ 'dsl-deduction': { accuracy: 1 } }), undefined);
  assert.equal(firstTargetHit(rec().evaluations)?.step, 100);
  assert.equal(firstTargetHit([]), undefined);
});

test('shouldStop: at the target, or 1.5 × its step past it; never before it is met', () => {
  const evs = rec().evaluations;
  assert.equal(shouldStop({ step: 100, evaluations: evs.slice(0, 1) }, true), false, 'not met yet');
  assert.equal(shouldStop({ step: 100, evaluations: evs.slice(0, 1) }, false), false);
  assert.equal(shouldStop({ step: 100, evaluations: evs.slice(0, 2) }, true), true, '--stop-at-target: at once');
  assert.equal(shouldStop({ step: 100, evaluations: evs.slice(0, 2) }, false), false, 'first met at 100: on to 150');
  assert.equal(shouldStop({ step: 149, evaluations: evs.slice(0, 3) }, false), false);
  assert.equal(shouldStop({ step: 150, evaluations: evs.slice(0, 3) }, false), true, 'even when the latest evaluation misses it');
  assert.equal(shouldStop({ step: 199, evaluations: evs }, false, 2), false);
  assert.equal(shouldStop({ step: 200, evaluations: evs }, false, 2), true);
});

const gate = (step: number, promoted: boolean, ev?: typeof HIT) => ({ step, at: at(step), version: step, score: 0.6, games: 200, rating: step, promoted, bestRating: step, ...(ev ? { eval: ev } : {}) });

test('summariseRun: first hit, seconds from submission, the latest evaluation, league best and latest, the best\'s evaluation', () => {
  const best = { version: 2, step: 100, rating: 150, eval: HIT };
  const latest = { version: 4, step: 200, rating: 140 };
  const r = summariseRun(7, rec({
    league: { best, latest, ratings: [], gates: [gate(50, true, MISS), gate(100, true, HIT), gate(150, false), gate(200, false)] },
  }), T0 + 10_000);
  assert.deepEqual(r, {
    seed: 7, stepsToTarget: 100, secondsToTarget: 110, steps: 400, state: 'stopped', latestMeetsTarget: true,
    best, latest, bestEval: HIT, bestMeetsTarget: true, bestMetAt: 100, bestHeld: true,
  });
  // Never met; the latest misses; no league; no bestEval.
  const miss = summariseRun(8, rec({ state: 'completed', evaluations: [{ step: 50, at: at(60), eval: MISS }] }), T0);
  assert.deepEqual(miss, {
    seed: 8, stepsToTarget: null, secondsToTarget: null, steps: 400, state: 'completed', latestMeetsTarget: false,
    best: null, latest: null, bestEval: null, bestMeetsTarget: null, bestMetAt: null, bestHeld: null,
  });
  assert.equal(summariseRun(9, rec({ evaluations: [] }), T0).latestMeetsTarget, null, 'no evaluation');
  assert.equal(summariseRun(9, rec({ evaluations: [{ step: 1, at: at(1), eval: { other: { x: 1 } } }] }), T0).latestMeetsTarget, null, 'no known target');
});

test('bestHistory: when the best first met the target, and whether every later best did', () => {
  assert.deepEqual(bestHistory([gate(50, true, MISS), gate(100, true, HIT), gate(150, false), gate(200, true, HIT)]), { bestMetAt: 100, bestHeld: true });
  assert.deepEqual(bestHistory([gate(50, true, HIT), gate(100, true, MISS)]), { bestMetAt: 50, bestHeld: false });
  assert.deepEqual(bestHistory([gate(50, true, MISS), gate(100, false)]), { bestMetAt: null, bestHeld: null });
  assert.deepEqual(bestHistory([]), { bestMetAt: null, bestHeld: null });
});

test('spread: min, median and max of the values given, nulls left out; all null when none', () => {
  assert.deepEqual(spread([300, null, 100, 200]), { min: 100, median: 200, max: 300 });
  assert.deepEqual(spread([400, 100, 300, 200]), { min: 100, median: 250, max: 400 });
  assert.deepEqual(spread([55.5]), { min: 55.5, median: 55.5, max: 55.5 });
  assert.deepEqual(spread([null, null]), { min: null, median: null, max: null });
  assert.deepEqual(spread([]), { min: null, median: null, max: null });
});

test('summariseRuns: reached counts the runs that met the target; spreads over those only', () => {
  const a = summariseRun(1, rec(), T0);
  const b = summariseRun(2, rec({ evaluations: [{ step: 300, at: at(500), eval: HIT }] }), T0);
  const c = summariseRun(3, rec({ evaluations: [{ step: 50, at: at(60), eval: MISS }] }), T0);
  const s = summariseRuns('configs/tictactoe.yaml', 'async', [a, b, c]);
  assert.deepEqual(s, {
    bench: 'time-to-target', config: 'configs/tictactoe.yaml', mode: 'async', runs: 3, reached: 2, bestMeetsTarget: 0, bestHeld: 0,
    stepsToTarget: { min: 100, median: 200, max: 300 },
    secondsToTarget: { min: 120, median: 310, max: 500 },
    perRun: [a, b, c],
  });
  const none = summariseRuns('configs/kuhn.yaml', 'async', [c]);
  assert.equal(none.reached, 0);
  assert.deepEqual(none.stepsToTarget, { min: null, median: null, max: null });
  assert.deepEqual(none.secondsToTarget, { min: null, median: null, max: null });
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s, 'one JSON line round-trips');
});
