import { Policy, type PolicyOptions } from '../policy.ts';
import type { HfConfigOptions } from './config.ts';
import { readHfModel, type HfModel } from './read.ts';

/** A Policy running an imported Hugging Face model (step 0, version 0), and what was imported. */
export async function loadHfPolicy(dir: string, opts: HfConfigOptions & PolicyOptions = {}): Promise<{ policy: Policy; model: HfModel }> {
  const model = await readHfModel(dir, { context: opts.context, seed: opts.seed });
  const policy = await Policy.create(model.config, opts);
  try {
    await policy.setState({ params: model.params, step: 0, version: 0 });
  } catch (err) {
    await policy.close();
    throw err;
  }
  return { policy, model };
}
