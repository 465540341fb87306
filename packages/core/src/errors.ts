/** Errors shared by every service. `code` is stable; HTTP/gRPC status is mapped in adapters. */
export class SparError extends Error {
  readonly code: string;
  /** Whether retrying the same work can succeed (BullMQ: false → UnrecoverableError). */
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable = false) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
  }
}

export interface FieldIssue {
  /** JSON pointer of the bad field, e.g. "/learner/lr". */
  readonly path: string;
  readonly message: string;
}

/** Input failed schema validation; lists every bad field. */
export class ValidationError extends SparError {
  readonly issues: readonly FieldIssue[];
  constructor(what: string, issues: FieldIssue[]) {
    super('VALIDATION_FAILED', `invalid ${what}: ${issues.map((i) => `${i.path || '/'} ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}

export class PayloadTooLargeError extends SparError {
  readonly bytes: number;
  readonly limit: number;
  constructor(what: string, bytes: number, limit: number) {
    super('PAYLOAD_TOO_LARGE', `${what} is ${bytes} bytes, limit ${limit}`);
    this.bytes = bytes;
    this.limit = limit;
  }
}

export class NotFoundError extends SparError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}

export class ConflictError extends SparError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** A lease (e.g. the learner's hold on an experiment) was lost to another holder or expired. */
export class LeaseLostError extends SparError {
  constructor(message: string) {
    super('LEASE_LOST', message);
  }
}

/** A dependency (Redis, the judge, the learner) did not answer in time; safe to retry. */
export class UnavailableError extends SparError {
  constructor(message: string) {
    super('UNAVAILABLE', message, true);
  }
}
