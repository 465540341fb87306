// npm run bench:transport — trajectories/s end to end (proposer → solver → judge → learner, the
// spiral-games judge replaying every episode, a tiny policy) next to raw BullMQ jobs/s measured
// in the same run on the same Redis.
// Prints {"bench":"transport","pipelinePerSec":N,"rawBullmqPerSec":N,"ratio":N}.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { keys } from '@spar/core';
import { startStack } from '@spar/testing';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' }, jobs: { type: 'string', default: '5000' } } });
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const seconds = Number(values.seconds);
const stack = await startStack(ROOT);
const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: null });
try {
  // ---- pipeline
  const exp = {
    name: 'bench transport', recipe: 'spiral-games', options: { games: ['tictactoe'] },
    policy: { layers: 1, dModel: 16, heads: 2, context: 24 },
    rollout: { groupSize: 8, maxNewTokens: 1, concurrency: 4, maxQueuedTasks: 32 },
    learner: { estimator: { kind: 'rae' }, batchSize: 256, maxStaleness: 1000, checkpointEvery: 100000 },
    eval: { every: 0, episodes: 2 }, budget: { maxSteps: 1000000, maxMinutes: 60 },
  };
  const res = await fetch(`${stack.baseUrl}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(exp) });
  const { id } = (await res.json()) as { id: string };
  const ingested = async () => Number((await redis.hget(keys.counters(id), 'ingested_trajectories')) ?? 0);
  const until = Date.now() + 120000;
  while ((await ingested()) === 0) {
    if (Date.now() > until) throw new Error('pipeline produced nothing in 120 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  const a0 = await ingested();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const pipelinePerSec = ((await ingested()) - a0) / ((performance.now() - t0) / 1000);
  await fetch(`${stack.baseUrl}/v1/experiments/${id}/stop`, { method: 'POST' });
  // Let the services go quiet before the raw measurement shares the cores.
  redis.disconnect();
  await stack.stop().catch(() => undefined);

  // ---- raw BullMQ on a fresh Redis of the same build, same machine
  const { RedisServer } = await import('@spar/testing');
  const raw = await RedisServer.start();
  const conn = new Redis(raw.url, { maxRetriesPerRequest: null });
  const n = Number(values.jobs);
  const q = new Queue('bench-raw', { connection: conn, prefix: 'spar' });
  await q.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'j', data: { i }, opts: { jobId: `j${i}`, removeOnComplete: { count: 500 } } })));
  let done = 0;
  const t1 = performance.now();
  // The worker's connection is ours to close (Worker.close leaves a passed-in connection open, and
  // an open client keeps reconnecting to the stopped Redis forever: the bench never exited).
  const workerConn = new Redis(raw.url, { maxRetriesPerRequest: null });
  const finished = new Promise<void>((resolveDone) => {
    const w = new Worker('bench-raw', async () => undefined, { connection: workerConn, prefix: 'spar', concurrency: 50 });
    w.on('completed', () => { if (++done === n) { void w.close().then(() => resolveDone()); } });
  });
  await finished;
  const rawBullmqPerSec = n / ((performance.now() - t1) / 1000);
  await q.close();
  conn.disconnect();
  workerConn.disconnect();
  await raw.stop();
  console.log(JSON.stringify({
    bench: 'transport', seconds, pipelinePerSec: +pipelinePerSec.toFixed(1), rawBullmqPerSec: +rawBullmqPerSec.toFixed(1),
    ratio: +(pipelinePerSec / rawBullmqPerSec).toFixed(4),
    note: 'pipeline = trajectories (one per move) ingested by the learner per second; raw = consume-only BullMQ jobs/s (concurrency 50)',
  }));
} finally {
  redis.disconnect();
  await stack.stop().catch(() => undefined);
}
