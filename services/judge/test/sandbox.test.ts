import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExperiment } from '@spar/core';
import { builtinRecipes } from '@spar/recipes';
import { JudgeCrashedError, JudgeRejectedError, JudgeSandbox, JudgeTimeoutError, SandboxBusyError } from '../src/sandbox.ts';

const config = parseExperiment({ name: 's', recipe: 'spiral-games', rollout: { maxNewTokens: 1 } }, builtinRecipes());
const BOMB_WORKER = new URL('./fixtures/memory-bomb-worker.ts', import.meta.url);
const MEMORY_BOMB = 'memory-bomb'; // see fixtures/memory-bomb-worker.ts
const sandboxOf = (o: Partial<ConstructorParameters<typeof JudgeSandbox>[0]> = {}) =>
  new JudgeSandbox({ threads: 1, timeoutMs: 10000, maxHeapMb: 256, maxQueued: 16, ...o });
type Verdicts = { valid: boolean }[];

test('the judge sandbox terminates an overrunning call, replaces the thread, and keeps serving', async () => {
  const sandbox = sandboxOf();
  try {
    const ok = await sandbox.run<Verdicts>('validate', config, [{ game: 'tictactoe', seed: 1 }, { game: 'chess', seed: 1 }]);
    assert.deepEqual(ok.map((v) => v.valid), [true, false]);
    // 5000 tasks cannot be validated in 1 ms: the call is abandoned and its thread terminated.
    const many = Array.from({ length: 5000 }, (_, i) => ({ game: 'tictactoe', seed: i }));
    await assert.rejects(sandbox.run('validate', config, many, 1), JudgeTimeoutError);
    // The replacement thread serves the next call.
    const again = await sandbox.run<Verdicts>('validate', config, [{ game: 'tictactoe', seed: 2 }]);
    assert.equal(again[0]!.valid, true);
    // A recipe error comes back as a rejection, not a crash.
    await assert.rejects(sandbox.run('judge', config, [{ game: 'tictactoe', seed: 1 }, [{ index: 0, turns: 'garbage' }], undefined]), JudgeRejectedError);
  } finally {
    await sandbox.close();
  }
});

test('a memory bomb fails its own call only: the process dies at its heap limit and is replaced', async () => {
  const sandbox = sandboxOf({ threads: 2, maxHeapMb: 64, timeoutMs: 60000, entry: BOMB_WORKER });
  try {
    // A neighbour call on the other thread, started alongside the bomb, is judged fine.
    const [bomb, neighbour] = await Promise.allSettled([
      sandbox.run('validate', config, [MEMORY_BOMB]),
      sandbox.run<Verdicts>('validate', config, [{ game: 'tictactoe', seed: 3 }]),
    ]);
    assert.equal(bomb.status, 'rejected');
    assert.ok((bomb as PromiseRejectedResult).reason instanceof JudgeCrashedError, String((bomb as PromiseRejectedResult).reason));
    assert.match((bomb as PromiseRejectedResult).reason.message, /out of memory \(heap limit 64 MiB\)/);
    assert.equal(neighbour.status, 'fulfilled', String((neighbour as PromiseRejectedResult).reason));
    // Every process (the replacement included) judges the next calls.
    const next = await Promise.all([1, 2, 3, 4].map((seed) => sandbox.run<Verdicts>('validate', config, [{ game: 'tictactoe', seed }])));
    assert.deepEqual(next.map((v) => v[0]!.valid), [true, true, true, true]);
    // A second bomb is handled the same way.
    await assert.rejects(sandbox.run('validate', config, [MEMORY_BOMB]), JudgeCrashedError);
    assert.equal((await sandbox.run<Verdicts>('validate', config, [{ game: 'tictactoe', seed: 5 }]))[0]!.valid, true);
  } finally {
    await sandbox.close();
  }
});

test('memory outside the V8 heap is capped too: a Buffer bomb is killed at the resident-memory cap, alone, and replaced', async () => {
  const sandbox = sandboxOf({ threads: 2, maxHeapMb: 64, maxMemoryMb: 600, timeoutMs: 60000, entry: BOMB_WORKER });
  try {
    const [bomb, neighbour] = await Promise.allSettled([
      sandbox.run('validate', config, ['buffer-bomb']),
      sandbox.run<Verdicts>('validate', config, [{ game: 'tictactoe', seed: 3 }]),
    ]);
    assert.equal(bomb.status, 'rejected');
    const why = (bomb as PromiseRejectedResult).reason as Error;
    assert.ok(why instanceof JudgeCrashedError, String(why));
    assert.match(why.message, /out of memory \(\d+ MiB resident, cap 600 MiB\)/);
    assert.equal(neighbour.status, 'fulfilled', String((neighbour as PromiseRejectedResult).reason));
    const next = await Promise.all([1, 2, 3].map((seed) => sandbox.run<Verdicts>('validate', config, [{ game: 'tictactoe', seed }])));
    assert.deepEqual(next.map((v) => v[0]!.valid), [true, true, true]);
  } finally {
    await sandbox.close();
  }
});

test('the wait queue is bounded: calls beyond it are refused as busy (retryable) and the rest complete', async () => {
  const sandbox = sandboxOf({ threads: 1, maxQueued: 2 });
  try {
    const task = [{ game: 'tictactoe', seed: 1 }];
    // One call runs, two wait, the fourth and fifth are refused at once.
    const calls = Array.from({ length: 5 }, () => sandbox.run<Verdicts>('validate', config, task));
    const settled = await Promise.allSettled(calls);
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    const refused = (settled[3] as PromiseRejectedResult).reason;
    assert.ok(refused instanceof SandboxBusyError);
    assert.equal(refused.retryable, true);
    assert.match(refused.message, /1 sandbox processes are busy and 2 calls wait/);
    assert.equal(sandbox.queued, 0);
    assert.equal((await sandbox.run<Verdicts>('validate', config, task))[0]!.valid, true, 'serves again once the queue drains');
  } finally {
    await sandbox.close();
  }
});

test('close() rejects waiting calls instead of leaving them pending', async () => {
  const sandbox = sandboxOf({ threads: 1 });
  const running = assert.rejects(sandbox.run('validate', config, [{ game: 'tictactoe', seed: 1 }]), /sandbox closed/);
  const waiting = assert.rejects(sandbox.run('validate', config, [{ game: 'tictactoe', seed: 2 }]), /sandbox closed/);
  await sandbox.close();
  await Promise.all([running, waiting]);
});
