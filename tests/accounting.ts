import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { keys, type ExperienceEntry } from '@spar/core';

export interface Accounting {
  readonly appended: number;
  readonly ingested: number;
  readonly dropped: number;
  readonly unread: number;
  /** Groups the judge refused as already appended (re-deliveries caught). */
  readonly duplicateGroups: number;
}

/**
 * The exactly-once ledger of an experiment, read atomically: every trajectory the judge appended
 * was ingested, dropped (stale, duplicate, invalid, frozen) or is still unread above the learner's
 * cursor — each exactly once — and none reached the learner twice.
 */
export async function assertExactlyOnce(redis: Redis, id: string): Promise<Accounting> {
  const [[, c], [, stream]] = (await redis.multi().hgetall(keys.counters(id)).xrange(keys.experience(id), '-', '+').exec()) as [[null, Record<string, string>], [null, [string, string[]][]]];
  const n = (x: string) => x.split('-').map(Number) as [number, number];
  const [cms, cseq] = n(c.learner_cursor!);
  const unread = stream.filter(([e]) => { const [ms, s] = n(e); return ms > cms || (ms === cms && s > cseq); })
    .reduce((s, [, f]) => s + (JSON.parse(f[f.indexOf('d') + 1]!) as ExperienceEntry).trajectories.length, 0);
  const ingested = Number(c.ingested_trajectories);
  const dropped = Number(c.dropped_stale) + Number(c.dropped_duplicate) + Number(c.dropped_invalid) + Number(c.dropped_frozen ?? 0);
  assert.equal(Number(c.dropped_duplicate), 0, 'no trajectory reached the learner twice');
  assert.equal(Number(c.appended_trajectories), ingested + dropped + unread, `appended ${c.appended_trajectories} vs ingested ${ingested} + dropped ${dropped} + unread ${unread}`);
  return { appended: Number(c.appended_trajectories), ingested, dropped, unread, duplicateGroups: Number(c.duplicate_groups ?? 0) };
}

/**
 * Samples the published policy version every `everyMs` until stopped; `stop()` returns the
 * samples and asserts they never went down (a version names one weight set, never reused).
 */
export function watchPolicyVersions(redis: Redis, id: string, everyMs = 50): { stop(): Promise<number[]> } {
  const seen: number[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const v = await redis.hget(keys.policy(id), 'version').catch(() => null);
      if (v !== null && Number(v) !== seen.at(-1)) seen.push(Number(v));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `policy version went from ${seen[i - 1]} to ${seen[i]} (${seen.join(',')})`);
      return seen;
    },
  };
}
