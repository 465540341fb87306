import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExperimentRecord } from '@spar/core';
import { budgetOf, progressLine } from '../src/progress.ts';

const T0 = Date.parse('2026-12-04T06:00:00Z');
const record = (o: Partial<ExperimentRecord>): ExperimentRecord => ({
  id: 'x', config: { budget: { maxSteps: 100000, maxMinutes: 25 } }, state: 'running', createdAt: new Date(T0).toISOString(),
  startedAt: new Date(T0).toISOString(), step: 0, policyVersion: 0, metrics: {}, evaluations: [], ...o,
});

test('the progress bar follows the budget that binds: minutes when the time limit comes first, with an ETA', () => {
  // 1,000 steps in 10 minutes: 25 minutes end the run at ~2,500 steps, long before 100,000.
  const r = record({ step: 1000 });
  assert.deepEqual(budgetOf(r), { maxSteps: 100000, maxMinutes: 25 });
  const line = progressLine(r, budgetOf(r), 20, T0 + 10 * 60000);
  assert.match(line, /^\[########\.{12}\] step 1000 · 10\.0\/25 min running ETA 15 min /);
  // Self-play time starts after the warm start (its seconds), as the learner counts it.
  const warm = record({ step: 1000, warmStart: { from: 'sft', state: 'done', step: 1200, seconds: 300 } });
  assert.match(progressLine(warm, budgetOf(warm), 20, T0 + 15 * 60000), /step 1000 · 10\.0\/25 min running ETA 15 min/);
});

test('the progress bar counts steps when the step limit binds', () => {
  const r = record({ step: 50, config: { budget: { maxSteps: 200, maxMinutes: 60 } } });
  // 50 steps in 1 minute: 200 steps in 4 minutes, well inside the hour.
  const line = progressLine(r, budgetOf(r), 20, T0 + 60000);
  assert.match(line, /^\[#####\.{15}\] 50\/200 running ETA 3\.0 min /);
  // Before the first step the pace is unknown: steps, no ETA.
  assert.match(progressLine(record({ config: { budget: { maxSteps: 200, maxMinutes: 60 } } }), { maxSteps: 200, maxMinutes: 60 }, 20, T0), /\] 0\/200 running v0/);
  // A finished run shows no ETA.
  assert.doesNotMatch(progressLine({ ...r, state: 'completed' }, budgetOf(r), 20, T0 + 60000), /ETA/);
});

test('a finished time-bound run shows where the time budget ended it', () => {
  const done = record({ step: 2500, state: 'completed', finishedAt: new Date(T0 + 25 * 60000).toISOString() });
  assert.match(progressLine(done, budgetOf(done), 20, T0 + 26 * 60000), /^\[#{20}\] step 2500 · 25\.0\/25 min completed v0/);
});

test('with named policies the line shows each one\'s version, frozen ones marked', () => {
  const r = record({ step: 30, policyVersion: 0, policies: { challenger: { version: 30, step: 30, frozen: false }, solver: { version: 0, step: 0, frozen: true } } });
  assert.match(progressLine(r, budgetOf(r), 20, T0 + 60000), / running ETA [^ ]+ min challenger v30, solver v0 \(frozen\) /);
  assert.match(progressLine(record({ step: 30 }), budgetOf(r), 20, T0 + 60000), / v\d+ /);
});

test('with a league the line names the best policy and both ratings', () => {
  const r = record({ step: 300, league: { best: { version: 250, step: 250, rating: 612.4 }, latest: { version: 300, step: 300, rating: 598.6 }, ratings: [], gates: [] } });
  assert.match(progressLine(r, budgetOf(r), 20, T0 + 60000), / best v250 \(612 Elo, latest 599\)/);
  assert.doesNotMatch(progressLine(record({ step: 300 }), budgetOf(r), 20, T0 + 60000), /best v/);
  // Gated by exploitability: the best's exploitability too.
  const k = record({ step: 300, league: { best: { version: 250, step: 250, rating: 12, exploitability: 0.01849 }, latest: { version: 300, step: 300, rating: 10 }, ratings: [], gates: [] } });
  assert.match(progressLine(k, budgetOf(k), 20, T0 + 60000), / best v250 \(12 Elo, latest 10, exploitability 0\.018\)/);
});
