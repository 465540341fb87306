/** The fault tests' experiment: TicTacToe self-play with a one-layer model, quick steps. */
export function tinyExperiment(name: string, o: { seed: number; budget: { maxSteps: number; maxMinutes: number }; learner?: object }) {
  return {
    name, recipe: 'spiral-games', options: { games: ['tictactoe'] },
    policy: { layers: 1, dModel: 16, heads: 2, context: 24, seed: o.seed },
    rollout: { groupSize: 4, maxNewTokens: 1, concurrency: 2, maxQueuedTasks: 4 },
    learner: { batchSize: 24, maxStaleness: 4, checkpointEvery: 5, ...o.learner },
    eval: { every: 0, episodes: 10 }, budget: o.budget,
  };
}

/** BullMQ lock and stalled check short enough that a crashed or paused worker's jobs come back within seconds. */
export const QUICK_LOCKS = { SPAR_JOB_LOCK_MS: '2000', SPAR_STALLED_INTERVAL_MS: '1000' };
