/** Errors of the DSL recipes (a rejected group or task is a TaskRejected, ../errors.ts). */

/** The configured token budgets cannot hold the smallest prompt + answer / draft. */
export class AzrBudgetError extends Error {
  readonly code = 'AZR_BUDGET';
  constructor(message: string) {
    super(message);
    this.name = 'AzrBudgetError';
  }
}
