import { builtinRecipes, HELD_OUT_REASON, vocabularyFor, type CopyKind, type HeldOut, type Recipe } from '@spar/recipes';
import { parseExperiment, type ExperimentConfig } from '@spar/core';
import { loadHfTextModel, type TextCodec, type Vocabulary } from '@spar/policy/schema';

// Judge sandbox process: runs one recipe call at a time, messages over the IPC channel. The judge
// kills this process when a call overruns its time limit or its memory cap, so a pathological
// task can neither stall the judge nor take its memory.
//
// Decontamination (recipes' held-out.ts) is enforced here for every recipe with held-out prompts:
// 'validate' refuses a task that poses one (reason 'held_out: …', which the proposer counts and
// does not train), and 'judge' answers { heldOut: true } instead of judging such a group — a
// held-out task that got this far slipped past its source's own filter.
//
// An imported text model (warmStart.from: hf) is judged through its tokenizer, read here from the
// folder (once per folder and context): its size counts towards SPAR_SANDBOX_HEAP_MB.
const recipes = builtinRecipes();
interface Context { config: ExperimentConfig; recipe: Recipe<unknown>; vocab: Vocabulary; text?: TextCodec; heldOut?: HeldOut }
/** Per experiment config (as sent): parsed once, with its vocabulary, text codec and held-out set. */
const contexts = new Map<string, Promise<Context>>();
const MAX_CONTEXTS = 64;
/** Text codecs by folder, context and seed (shared by the configs that import one model). */
const codecs = new Map<string, Promise<TextCodec>>();

async function textCodec(config: ExperimentConfig): Promise<TextCodec | undefined> {
  const ws = config.warmStart;
  if (ws?.from !== 'hf' || ws.path === undefined) return undefined;
  const seed = config.policy.seed ?? config.seed;
  const key = JSON.stringify([ws.path, config.policy.context ?? null, seed]);
  let c = codecs.get(key);
  if (!c) {
    c = loadHfTextModel(ws.path, { ...(config.policy.context !== undefined ? { context: config.policy.context } : {}), seed }).then((m) => m.codec);
    codecs.set(key, c);
    c.catch(() => codecs.delete(key));
  }
  return c;
}

function contextOf(raw: unknown): Promise<Context> {
  const key = JSON.stringify(raw);
  let c = contexts.get(key);
  if (!c) {
    c = (async () => {
      const config = parseExperiment(raw, recipes);
      const recipe = recipes.get(config.recipe);
      const text = await textCodec(config);
      return { config, recipe, vocab: vocabularyFor(recipe, config), ...(text ? { text } : {}), heldOut: recipe.heldOut?.(config) };
    })();
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value!);
    contexts.set(key, c);
    c.catch(() => contexts.delete(key));
  }
  return c;
}

process.on('message', async (msg: { id: number; method: 'judge' | 'validate'; config: unknown; args: unknown[] }) => {
  try {
    const { config, recipe, vocab, text, heldOut } = await contextOf(msg.config);
    const result = msg.method === 'judge'
      ? (heldOut?.has(msg.args[0])
        ? { heldOut: true }
        : recipe.judge(msg.args[0], msg.args[1] as unknown[], msg.args[2] as never, config.options, vocab, config, msg.args[3] as CopyKind | undefined, text))
      : (msg.args as unknown[]).map((t) => {
        const v = recipe.validateTask(t, config.options);
        return v.valid && heldOut?.has(v.task ?? t) ? { valid: false, reason: `${HELD_OUT_REASON}: the task poses a prompt of the held-out evaluation set` } : v;
      });
    process.send!({ id: msg.id, result });
  } catch (err) {
    const e = err as Error;
    process.send!({ id: msg.id, error: { name: e.name, message: e.message } });
  }
});
