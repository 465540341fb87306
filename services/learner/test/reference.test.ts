import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointError, Learner, Policy, type TrainSample } from '@spar/policy';
import { ReferencePolicy, referenceFromTensors } from '../src/reference.ts';

const model = { vocabSize: 12, layers: 1, dModel: 16, heads: 2, context: 16, seed: 3 };
const samples: TrainSample[] = [
  { tokens: [1, 2, 3, 4], mask: [0, 0, 1, 1], advantage: 1, allowed: [null, null, [3, 5], [4, 6, 7]] },
  { tokens: [1, 5, 6], mask: [0, 1, 1], advantage: -1 },
];

test('reference: scores under the samples\' allowed sets, pulls through the KL term, refreshes, round-trips a checkpoint', async () => {
  const policy = await Policy.create(model, { worker: false });
  const ref = await ReferencePolicy.create(policy.config, { worker: false }, undefined, policy);
  try {
    const annotated = await ref.annotate(samples);
    const want = await policy.score(samples.map((s) => s.tokens), samples.map((s) => s.allowed ?? null));
    annotated.forEach((s, i) => {
      for (let j = 1; j < s.tokens.length; j++) assert.ok(Math.abs(s.refLogprobs![j]! - want[i]![j]!) < 1e-6);
      assert.equal(s.refLogprobs![0], 0);
    });

    // A copy of the current policy: KL 0 before the step, > 0 once the policy has moved.
    const learner = await Learner.create(policy, { kind: 'ppo', klCoef: 0.5 }, { lr: 0.05 });
    const first = await learner.step(await ref.annotate(samples.map((s) => ({ ...s, logprobs: undefined }))));
    assert.ok(first.kl < 1e-6, `kl before any update ${first.kl}`);
    const second = await learner.step(await ref.annotate(samples.map((s) => ({ ...s, logprobs: undefined }))));
    assert.ok(second.kl > 1e-4, `kl after an update ${second.kl}`);

    // Checkpoint tensors restore the same reference; refresh moves it to the policy.
    const saved = referenceFromTensors(policy.config, await ref.tensors());
    assert.ok(saved);
    const restored = await ReferencePolicy.create(policy.config, { worker: false }, saved, policy);
    const [a, b] = [await ref.annotate(samples), await restored.annotate(samples)];
    assert.deepEqual(Array.from(a[0]!.refLogprobs!), Array.from(b[0]!.refLogprobs!));
    await restored.refresh(policy);
    const moved = await restored.annotate(samples);
    const now = await policy.score([samples[0]!.tokens], [samples[0]!.allowed!]);
    assert.ok(Math.abs(moved[0]!.refLogprobs![3]! - now[0]![3]!) < 1e-6);
    assert.notEqual(moved[0]!.refLogprobs![3], a[0]!.refLogprobs![3]);
    await restored.close();
    await restored.close(); // idempotent

    assert.equal(referenceFromTensors(policy.config, {}), undefined, 'a checkpoint without a reference');
    const partial = await ref.tensors();
    delete partial[Object.keys(partial)[0]!];
    assert.throws(() => referenceFromTensors(policy.config, partial), CheckpointError);
  } finally {
    await ref.close();
    await policy.close();
  }
});
