/** Redis key and queue names, in one place. BullMQ queues live under the `spar` prefix. */
export const PREFIX = 'spar';

export const keys = {
  /** Hash: experimentId → JSON record. */
  experiments: `${PREFIX}:experiments`,
  /** Set: experiment ids currently running (workers serve these). */
  running: `${PREFIX}:running`,
  /** Pub/sub channel announcing lifecycle changes. */
  events: `${PREFIX}:events`,
  /** String: `<holder>#<fencing token>` of the learner holding the experiment (expires unless renewed). */
  lease: (exp: string) => `${PREFIX}:{${exp}}:lease`,
  /** Counter: the last fencing token handed out by a claim of the experiment's lease. */
  fence: (exp: string) => `${PREFIX}:{${exp}}:fence`,
  /** Stream of judged trajectories (the learner's input log). */
  experience: (exp: string) => `${PREFIX}:{${exp}}:experience`,
  /**
   * Sorted set: ids of the groups appended to the experience stream (producer-side dedupe), score =
   * append time in ms. The learner trims it to a time window when it trims the stream.
   */
  appended: (exp: string) => `${PREFIX}:{${exp}}:appended`,
  /** Hash of counters (produced, duplicates, ...). */
  counters: (exp: string) => `${PREFIX}:{${exp}}:counters`,
  /** Sorted set: task buffer (references for proposers), score = insertion time. */
  taskBuffer: (exp: string) => `${PREFIX}:{${exp}}:taskbuf`,
  /** Sorted set: the pinned seed tasks of the buffer (Recipe.seedTasks; never evicted), score = index. */
  taskSeed: (exp: string) => `${PREFIX}:{${exp}}:taskseed`,
  /**
   * Sorted set: canonical keys of tasks a solver group answered correctly every time (kept out of
   * solver replay), score = time; capped at the newest SPAR_TASK_SEEN_MAX.
   */
  taskSolved: (exp: string) => `${PREFIX}:{${exp}}:solved`,
  /** List: the programs of the newest 1,000 new proposals that wrote one (distinct programs per 1,000). */
  novelty: (exp: string) => `${PREFIX}:{${exp}}:novelty`,
  /** Sorted set of task ids proposed (dedupe), score = time; capped at the newest SPAR_TASK_SEEN_MAX. */
  taskSeen: (exp: string) => `${PREFIX}:{${exp}}:seen`,
  /**
   * Sorted set: admission tokens of rollout groups being generated or judged (member = group id,
   * score = expiry in ms). Their holders renew them; a crashed holder's token lapses.
   */
  inflight: (exp: string) => `${PREFIX}:{${exp}}:inflight`,
  /** Hash: the learning side's results against each pool snapshot (`<version>:games`, `<version>:score`), written by judges. */
  poolResults: (exp: string) => `${PREFIX}:{${exp}}:pool`,
  /** Hash: latest published policy {address, version, sha256}, and the opponent pool (`pool`: JSON). */
  policy: (exp: string) => `${PREFIX}:{${exp}}:policy`,
  /** The same record for named policy `name` (config.policies); the unnamed policy's without a name. */
  policyOf: (exp: string, name?: string) => (name === undefined ? `${PREFIX}:{${exp}}:policy` : `${PREFIX}:{${exp}}:policy:${name}`),
} as const;

/** BullMQ queue names per experiment (BullMQ forbids ':' in names). */
export const queues = {
  tasks: (exp: string) => `tasks.${exp}`,
  rollouts: (exp: string) => `rollouts.${exp}`,
} as const;
