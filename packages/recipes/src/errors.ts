import { SparError } from '@spar/core';

/**
 * A rollout group, episode or proposal that does not match its task (tampered, malformed, or
 * posing an invalid task): deterministic, so never retried. One class for every recipe; services
 * map it to an unrecoverable failure.
 */
export class TaskRejected extends SparError {
  constructor(message: string) {
    super('TASK_REJECTED', message);
  }
}
