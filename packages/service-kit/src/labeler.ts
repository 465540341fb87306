import { keys } from '@spar/core';
import type { FollowedPolicy } from './followed-policy.ts';
import type { Redis } from './redis.ts';

/** How long a read of the labeler's record is reused (ms). */
const REFRESH_MS = 2000;

/**
 * The solver's side of config.roles.labeler (R-Zero's frozen solver): the followed labeler policy,
 * and whether it holds the very weights the solver answers with now. The learner's record of a
 * copying policy names the source version it copied (`copyOf`); while the solver follows that
 * version and the labeler the recorded one, the group's own answers are the labeler's too and
 * nothing is sampled twice (R-Zero's challenger phase, where the solver is held fixed).
 */
export class Labeler {
  private cache?: { at: number; version: number; copyOf?: number };

  constructor(
    private readonly redis: Redis, private readonly experimentId: string, private readonly name: string,
    readonly policy: FollowedPolicy,
  ) {}

  /** Whether the labeler now holds the weights of `solver` (false when unsure: then both answer). */
  async sameAs(solver: FollowedPolicy): Promise<boolean> {
    const rec = await this.read();
    return rec.copyOf !== undefined && rec.copyOf === solver.version && rec.version === this.policy.version;
  }

  private async read(): Promise<NonNullable<Labeler['cache']>> {
    const now = Date.now();
    if (this.cache && now - this.cache.at < REFRESH_MS) return this.cache;
    const [version, copyOf] = await this.redis.hmget(keys.policyOf(this.experimentId, this.name), 'version', 'copyOf');
    this.cache = { at: now, version: version === null ? -1 : Number(version), ...(copyOf !== null && copyOf !== undefined ? { copyOf: Number(copyOf) } : {}) };
    return this.cache;
  }

  ready(): Promise<void> {
    return this.policy.ready();
  }

  close(): Promise<void> {
    return this.policy.close();
  }
}
