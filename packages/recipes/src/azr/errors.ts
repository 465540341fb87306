/**
 * Errors of the DSL recipes. A rejected group or task is deterministic (the same payload is
 * rejected again), so none is worth retrying: services map them to unrecoverable failures.
 */
export class AzrRejected extends Error {
  readonly code = 'AZR_REJECTED';
  constructor(message: string) {
    super(message);
    this.name = 'AzrRejected';
  }
}

/** The configured token budgets cannot hold the smallest prompt + answer / draft. */
export class AzrBudgetError extends Error {
  readonly code = 'AZR_BUDGET';
  constructor(message: string) {
    super(message);
    this.name = 'AzrBudgetError';
  }
}
