import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from '../src/index.ts';

test('metrics: forgetting an experiment drops its series (counters, gauges, histograms) and keeps the others', async () => {
  const m = new Metrics('learner', false);
  for (const e of ['a', 'b']) {
    m.counter('spar_trajectories_dropped_total').inc({ experiment: e, reason: 'stale' }, 2);
    m.counter('spar_trajectories_dropped_total').inc({ experiment: e, reason: 'invalid' });
    m.gauge('spar_learner_loss').set({ experiment: e }, 1.5);
    m.histogram('spar_advantage').observe({ experiment: e }, 0.3);
  }
  m.gauge('spar_idle_ratio').set({ service: 'learner' }, 0.5);
  await m.forgetExperiment('a');
  const text = await m.registry.metrics();
  assert.doesNotMatch(text, /experiment="a"/);
  assert.match(text, /spar_trajectories_dropped_total\{experiment="b",reason="stale"/);
  assert.match(text, /spar_advantage_bucket\{[^}]*experiment="b"/);
  assert.match(text, /spar_idle_ratio\{service="learner"/);
});
