import { SparError, UnavailableError } from '@spar/core';

/** A recipe call overran SPAR_JUDGE_TIMEOUT_MS; its thread was terminated. Retrying would overrun again. */
export class JudgeTimeoutError extends SparError {
  constructor(message: string) {
    super('JUDGE_TIMEOUT', message);
  }
}

/** The recipe threw (malformed or tampered input); never retried. */
export class JudgeRejectedError extends SparError {
  constructor(message: string) {
    super('JUDGE_REJECTED', message);
  }
}

/**
 * The sandbox thread died during the call: out of memory (SPAR_SANDBOX_HEAP_MB) or a crash. The
 * same input would kill it again, so the call fails for good; the pool replaces the thread.
 */
export class JudgeCrashedError extends SparError {
  constructor(message: string) {
    super('JUDGE_CRASHED', message);
  }
}

/** Every sandbox thread is busy and SPAR_SANDBOX_QUEUE calls already wait: back off and retry. */
export class SandboxBusyError extends UnavailableError {}
