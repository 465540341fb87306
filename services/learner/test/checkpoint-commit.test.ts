import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { keys } from '@spar/core';
import { CheckpointError, loadCheckpoint, Policy, savePolicy } from '@spar/policy';
import { closeRedis, connectRedis, createLogger, ExperimentLease, LeaseLostError, type Redis } from '@spar/service-kit';
import { RedisServer } from '@spar/testing';
import { CheckpointCommits } from '../src/checkpoint-commit.ts';

// The checkpoint commit protocol against a learner paused mid-checkpoint (GC, SIGSTOP): its files
// go under its own claim's name and only a fenced write in Redis makes a folder current.
let server: RedisServer;
let redis: Redis;
let dir: string;
const model = { vocabSize: 9, layers: 1, dModel: 8, heads: 2, context: 8 };
before(async () => {
  server = await RedisServer.start();
  redis = connectRedis(server.url, 'test', createLogger('test', 'error'));
  dir = mkdtempSync(join(tmpdir(), 'spar-commit-'));
});
after(async () => {
  await closeRedis(redis);
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, probe: () => Promise<boolean>, ms = 30000): Promise<void> {
  for (const end = Date.now() + ms; !(await probe());) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a learner paused between its lease check and its file write cannot overwrite, or become, the checkpoint its standby committed', async () => {
  const exp = 'paused-checkpoint';
  const root = join(dir, exp);
  const [a, b] = [await Policy.create({ ...model, seed: 1 }, { worker: false }), await Policy.create({ ...model, seed: 2 }, { worker: false })];
  try {
    // Learner A holds the experiment (its renewals stalled: no renewing) and starts the checkpoint of step 100.
    const leaseA = (await ExperimentLease.claim(redis, exp, 'learner-a', 2000))!;
    let reachedWrite!: () => void;
    const atWrite = new Promise<void>((r) => { reachedWrite = r; });
    let wake!: () => void;
    const paused = new Promise<void>((r) => { wake = r; });
    const aEnd = new CheckpointCommits(redis, leaseA, root, 'checkpoint', 3).commit(100, async (folder) => {
      reachedWrite(); // past the lease check, nothing written yet: paused here
      await paused;
      await savePolicy(a, folder, { metadata: { who: 'a', fence: leaseA.token } });
    }).then(() => 'committed', (err: unknown) => err);
    await atWrite;

    // A's lease lapses; the standby claims the experiment and commits its own checkpoint of step 100.
    await until('learner A\'s lease to lapse', async () => !(await leaseA.held()));
    const leaseB = (await ExperimentLease.claim(redis, exp, 'learner-b', 15000))!;
    assert.ok(leaseB.token > leaseA.token);
    const commitsB = new CheckpointCommits(redis, leaseB, root, 'checkpoint', 3);
    const dirB = await commitsB.commit(100, async (folder) => { await savePolicy(b, folder, { metadata: { who: 'b', fence: leaseB.token } }); });
    const committed = await loadCheckpoint(dirB);

    // A wakes: it writes its own folder, and its commit is refused.
    wake();
    const end = await aEnd;
    assert.ok(end instanceof LeaseLostError, `A's commit is refused: ${String(end)}`);
    const dirA = join(root, `step-000000100-f${leaseA.token}`);
    assert.ok(existsSync(dirA), 'A wrote under its own claim\'s name');
    assert.notEqual(dirA, dirB);
    assert.equal((await loadCheckpoint(dirB)).sha256, committed.sha256, 'the standby\'s checkpoint is intact');
    assert.equal(await redis.hget(keys.counters(exp), 'checkpoint_dir'), basename(dirB), 'the commit names the standby\'s folder');

    // The next resume loads exactly the committed folder and discards A's.
    const ref = await commitsB.resume();
    assert.equal(ref?.dir, dirB);
    assert.equal(ref?.fence, leaseB.token);
    assert.equal(((await loadCheckpoint(ref!.dir)).metadata.extra as { who?: string }).who, 'b');
    assert.equal(existsSync(dirA), false, 'the paused learner\'s folder is discarded');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a commit naming a folder that is gone stops the resume with a clear error; no commit means no checkpoint', async () => {
  const exp = 'missing-checkpoint';
  const root = join(dir, exp);
  const lease = (await ExperimentLease.claim(redis, exp, 'learner', 15000))!;
  const commits = new CheckpointCommits(redis, lease, root, 'checkpoint', 3);
  assert.equal(await commits.resume(), undefined);
  const p = await Policy.create({ ...model, seed: 3 }, { worker: false });
  try {
    const folder = await commits.commit(7, async (f) => { await savePolicy(p, f, { metadata: { fence: lease.token } }); });
    assert.equal((await commits.resume())?.dir, folder);
    rmSync(folder, { recursive: true, force: true });
    await assert.rejects(commits.resume(), (e: Error) => e instanceof CheckpointError && e.message.includes(`${basename(folder)} is missing`));
  } finally {
    await p.close();
  }
});
