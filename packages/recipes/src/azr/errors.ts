import { SparError } from '@spar/core';

/** Errors of the DSL recipes (a rejected group or task is a TaskRejected, ../errors.ts). */

/** The configured token budgets cannot hold the smallest prompt + answer / draft. */
export class AzrBudgetError extends SparError {
  constructor(message: string) {
    super('AZR_BUDGET', message);
  }
}
