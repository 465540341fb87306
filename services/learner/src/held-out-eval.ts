import type { EvalReport, PolicyHandle } from '@spar/recipes';
import type { ExperimentContext } from '@spar/service-kit';

/** The experiment's held-out evaluation of `policy`: `eval.suites` (default: every suite of the recipe), episodes and seed. */
export function heldOutEval(ctx: ExperimentContext, policy: PolicyHandle): Promise<EvalReport> {
  const { config, recipe } = ctx;
  const suites = config.eval.suites ?? recipe.evalSuites(config.options);
  return recipe.evaluate(policy, suites, { episodes: config.eval.episodes, seed: config.eval.seed }, config.options);
}
