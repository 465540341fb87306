/**
 * Typed errors of the policy engine. Every error has a stable `code` and names the field or op
 * it is about, so that services can map it to an HTTP/gRPC status without parsing messages.
 */
export class PolicyError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration object failed validation; `issues` lists every bad field path. */
export class ConfigError extends PolicyError {
  readonly issues: readonly { path: string; message: string }[];
  constructor(what: string, issues: { path: string; message: string }[]) {
    super('CONFIG_INVALID', `invalid ${what}: ${issues.map((i) => `${i.path || '/'}: ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}

/** A tensor had the wrong shape or dtype for the slot it was given to. */
export class ShapeError extends PolicyError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('SHAPE_MISMATCH', `${field}: ${message}`);
    this.field = field;
  }
}

/** An input contained NaN or ±Inf where finite numbers are required. */
export class NonFiniteError extends PolicyError {
  readonly field: string;
  constructor(field: string, index: number) {
    super('NON_FINITE', `${field}: non-finite value at flat index ${index}`);
    this.field = field;
  }
}

/** A graph used an op the builder or autodiff does not know. */
export class UnknownOpError extends PolicyError {
  readonly op: string;
  constructor(op: string, context: 'build' | 'gradient') {
    super(
      context === 'build' ? 'UNKNOWN_OP' : 'NO_GRADIENT_RULE',
      context === 'build' ? `unknown op '${op}'` : `no gradient rule for op '${op}'`,
    );
    this.op = op;
  }
}

/** An execution provider could not be loaded (e.g. the CUDA provider libraries are missing). */
export class ProviderError extends PolicyError {
  readonly provider: string;
  constructor(provider: string, message: string) {
    super('PROVIDER_UNAVAILABLE', message);
    this.provider = provider;
  }
}

/**
 * A Hugging Face tokenizer folder cannot be used: a file is missing or is not the JSON it should
 * be, or a special token it names is not in the vocabulary. `file` is the path at fault. Not
 * retryable: the files are wrong.
 */
export class HfTokenizerError extends PolicyError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('HF_TOKENIZER_INVALID', `${file}: ${message}`);
    this.file = file;
  }
}

/**
 * A chat could not be rendered: the model ships no chat template (`reason: 'missing'`), or its
 * template failed on these messages, e.g. through its own `raise_exception` (`'render'`).
 * Not retryable with the same input.
 */
export class ChatTemplateError extends PolicyError {
  readonly reason: 'missing' | 'render';
  constructor(reason: 'missing' | 'render', message: string) {
    super(reason === 'missing' ? 'CHAT_TEMPLATE_MISSING' : 'CHAT_TEMPLATE_FAILED', message);
    this.reason = reason;
  }
}

/** A checkpoint failed to load: missing file, bad hash, incompatible shapes. */
export class CheckpointError extends PolicyError {
  constructor(message: string) {
    super('CHECKPOINT_INVALID', message);
  }
}

/** One tensor of an imported model that is missing, unexpected, mis-shaped or of an unusable dtype. */
export interface TensorIssue {
  readonly name: string;
  readonly kind: 'missing' | 'unexpected' | 'shape' | 'dtype' | 'duplicate';
  readonly message: string;
}

/**
 * A Hugging Face model folder does not hold the weights its config.json describes. `issues`
 * names every offending tensor at once (not the first one found), so one run shows everything
 * to fix. Not retryable: the files are wrong.
 */
export class HfWeightsError extends PolicyError {
  readonly issues: readonly TensorIssue[];
  constructor(where: string, issues: TensorIssue[]) {
    super('HF_WEIGHTS_INVALID', `${where}: ${issues.length} tensor issue(s): ${issues.map((i) => i.message).join('; ')}`);
    this.issues = issues;
  }
}

/**
 * A Hugging Face model uses something the engine does not implement (a model_type, a
 * rope_scaling type, sliding-window attention, ...); `feature` names it. Not retryable.
 */
export class UnsupportedModelError extends PolicyError {
  readonly feature: string;
  constructor(feature: string, message: string) {
    super('HF_MODEL_UNSUPPORTED', message);
    this.feature = feature;
  }
}

/**
 * A spar model that no supported Hugging Face model type computes exactly (learned positions, a
 * GELU MLP with attention biases, ...), or an export option that contradicts the model; `feature`
 * names it. Nothing is written. Not retryable: export another model or choose other options.
 */
export class HfExportError extends PolicyError {
  readonly feature: string;
  constructor(feature: string, message: string) {
    super('HF_EXPORT_UNSUPPORTED', message);
    this.feature = feature;
  }
}
