import { keys, type ExperienceEntry } from '@spar/core';
import type { Redis } from 'ioredis';

// Append a judged group exactly once: the group id is recorded in a sorted set (score = append time,
// so the learner can trim it to a window) in the same atomic script.
// The entry carries `c`, the experiment's cumulative trajectory count through this entry, so the
// learner can say how many appended trajectories its committed cursor covers (admission control).
// The group's admission token moves from "in flight" to "in the stream" in the same script.
const APPEND_LUA = `
redis.call('ZREM', KEYS[4], ARGV[1])
local t = redis.call('TIME')
if redis.call('ZADD', KEYS[1], 'NX', t[1] * 1000 + math.floor(t[2] / 1000), ARGV[1]) == 0 then
  redis.call('HINCRBY', KEYS[3], 'duplicate_groups', 1)
  return 0
end
redis.call('HINCRBY', KEYS[3], 'appended_groups', 1)
local c = redis.call('HINCRBY', KEYS[3], 'appended_trajectories', tonumber(ARGV[3]))
redis.call('XADD', KEYS[2], '*', 'g', ARGV[1], 'd', ARGV[2], 'c', c)
return 1`;

/** Judge side: append one judged group; false when it was already appended (re-delivery). */
export async function appendExperience(redis: Redis, entry: ExperienceEntry): Promise<boolean> {
  const exp = entry.envelope.experimentId;
  const res = await redis.eval(APPEND_LUA, 4, keys.appended(exp), keys.experience(exp), keys.counters(exp), keys.inflight(exp),
    entry.envelope.groupId, JSON.stringify(entry), String(entry.trajectories.length));
  return res === 1;
}

export interface StreamItem {
  readonly id: string;
  readonly entry: ExperienceEntry;
  /** Trajectories appended to the stream through this entry (absent on entries older than the field). */
  readonly cumulative?: number;
}

/** Learner side: read up to `count` entries after `after` (a stream id), blocking up to `blockMs`. */
export async function readExperience(redis: Redis, exp: string, after: string, count: number, blockMs: number): Promise<StreamItem[]> {
  const res = (blockMs > 0
    ? await redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', keys.experience(exp), after)
    : await redis.xread('COUNT', count, 'STREAMS', keys.experience(exp), after)) as [string, [string, string[]][]][] | null;
  if (!res) return [];
  const out: StreamItem[] = [];
  for (const [, entries] of res) {
    for (const [id, fields] of entries) {
      const d = fields[fields.indexOf('d') + 1];
      const ci = fields.indexOf('c');
      const c = ci >= 0 ? Number(fields[ci + 1]) : NaN;
      if (d) out.push({ id, entry: JSON.parse(d) as ExperienceEntry, ...(Number.isFinite(c) ? { cumulative: c } : {}) });
    }
  }
  return out;
}

/**
 * Drop stream entries at or below a checkpointed cursor (they are folded into saved weights).
 * Unfenced: tests and tools; the learner trims through its ExperimentLease.
 */
export async function trimExperience(redis: Redis, exp: string, upTo: string): Promise<void> {
  if (upTo === '0-0') return;
  // MINID keeps entries >= the id; the next id after upTo is kept.
  const [ms, seq] = upTo.split('-').map(Number) as [number, number];
  await redis.xtrim(keys.experience(exp), 'MINID', `${ms}-${seq + 1}`);
}

export async function counters(redis: Redis, exp: string): Promise<Record<string, number>> {
  const h = await redis.hgetall(keys.counters(exp));
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
}
