/**
 * Decontamination: at the shipped configs' default eval seed, ≥ 100,000 training tasks from every
 * DSL and arithmetic training source, none of which poses a held-out prompt. The held-out prompts
 * are computed here independently (the eval's heldOutSet rendered as the solver sees it), and
 * each source's own exclusion count must be positive: the unfiltered stream does hit the
 * held-out set, so a filter that did nothing would fail.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseExperiment, type ExperimentConfig } from '@spar/core';
import { BOS_ID, type Vocabulary } from '@spar/policy/schema';
import { builtinRecipes, vocabularyFor, type ExclusionSource, type Recipe } from '../src/index.ts';
import { heldOutSet as arithHeldOutSet, randomExpression, EVAL_DIFFICULTIES } from '../src/arith/generator.ts';
import { solverPrompt } from '../src/arith/task.ts';
import { createRng, DIFFICULTIES, generateTask, heldOutSet as dslHeldOutSet, MARK, parseDraft, programText, TASK_TYPES, validateProposal, type Task } from '../src/dsl/index.ts';
import { checkTask, solverPromptIds } from '../src/azr/tasks.ts';
import { seededRng } from '../src/games/index.ts';

const N = 100_000;
const registry = builtinRecipes();
const shipped = (name: string) => parseExperiment(parseYaml(readFileSync(new URL(`../../../configs/${name}.yaml`, import.meta.url), 'utf8')), registry) as ExperimentConfig<any>;
const key = (a: readonly number[]) => a.join(',');

function counter() {
  const by: Partial<Record<ExclusionSource, number>> = {};
  return { by, cb: (s: ExclusionSource, n: number) => { by[s] = (by[s] ?? 0) + n; } };
}

/** The oracle: held-out solver prompts of a DSL experiment, as token ids. */
function dslOracle(config: ExperimentConfig<any>, vocab: Vocabulary): Set<string> {
  return new Set(dslHeldOutSet(config.eval.seed, Math.ceil(config.eval.episodes / 3)).map((t) => key(solverPromptIds(vocab, t))));
}

/** A wire task as the solver will see it (re-validated). */
function wireToTask(config: ExperimentConfig<any>, wire: unknown): Task {
  const c = checkTask(wire, config.options);
  assert.ok(c.ok, `a training task is invalid: ${c.ok ? '' : c.reason}`);
  return c.task;
}

test('rlvr-fixed generator: 100,000 draws at the default eval seed, none held out', async () => {
  const config = shipped('rlvr-fixed');
  const recipe = registry.get('rlvr-fixed');
  const vocab = vocabularyFor(recipe, config);
  const oracle = dslOracle(config, vocab);
  const c = counter();
  let s = 1;
  const rng = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
  let n = 0;
  while (n < N) {
    const out = await recipe.propose({ config, buffer: [], count: 2000, rng, excluded: c.cb });
    for (const { task } of out) {
      assert.ok(!oracle.has(key(solverPromptIds(vocab, wireToTask(config, task)))), 'a generator task is held out');
      n++;
    }
  }
  assert.ok((c.by.generator ?? 0) > 100, `the generator left out ${c.by.generator} held-out draws (the unfiltered stream hits ~1 %)`);
});

test('absolute-zero seed tasks: 100,000 over several seeds, none held out, all valid and distinct per seed', () => {
  const config = shipped('absolute-zero');
  const recipe = registry.get('absolute-zero');
  const vocab = vocabularyFor(recipe, config);
  const oracle = dslOracle(config, vocab);
  const big = { ...config, options: { ...config.options, seedTasks: 4096 } };
  const c = counter();
  let n = 0;
  for (let seed = 1; n < N; seed++) {
    const tasks = recipe.seedTasks!(big, seed, c.cb);
    assert.ok(tasks.length > 3 * 4000);
    for (const w of tasks) assert.ok(!oracle.has(key(solverPromptIds(vocab, wireToTask(config, w)))), 'a seed task is held out');
    n += tasks.length;
  }
  assert.ok((c.by.seed ?? 0) > 0, 'seeding left nothing out');
});

test('DSL warm start: 100,000 examples (solver and proposer), no held-out solver prompt, no held-out draft', () => {
  const config = shipped('absolute-zero');
  const recipe = registry.get('absolute-zero');
  const vocab = vocabularyFor(recipe, config);
  const oracle = dslOracle(config, vocab);
  const c = counter();
  const stream = recipe.warmStartExamples!(config, vocab, 2, c.cb);
  let proposer = 0;
  for (let n = 0; n < N; n += 5000) {
    for (const ex of stream(5000)) {
      const p = ex.mask.indexOf(1);
      const prompt = ex.tokens.slice(0, p);
      if (prompt[1] === vocab.id(MARK.propose)) {
        proposer++;
        // The draft a proposer example teaches, as the task its solver would see.
        const type = ({ [vocab.id(MARK.deduce)]: 'deduction', [vocab.id(MARK.abduce)]: 'abduction', [vocab.id(MARK.induce)]: 'induction' } as Record<number, Task['type']>)[prompt[2]!]!;
        // AZR-style induction: the prompt gives the program (after its last <prog>), the example the inputs.
        const given = prompt.slice(prompt.lastIndexOf(vocab.id(MARK.prog)) + 1);
        const draft = [...given, ...ex.tokens.slice(p, -1)].map((id) => vocab.symbol(id));
        const v = validateProposal(type, parseDraft(draft), { shown: config.options.solverShown });
        assert.ok(v.ok, 'a proposer example teaches an invalid draft');
        assert.ok(!oracle.has(key(solverPromptIds(vocab, { ...v.task, shown: type === 'induction' ? config.options.solverShown : 1 }))), 'a proposer example teaches a held-out task');
      } else {
        assert.equal(prompt[0], BOS_ID);
        assert.ok(!oracle.has(key(prompt)), 'a held-out task became a solver example');
      }
    }
  }
  assert.ok(proposer > 0.2 * N && proposer < 0.3 * N, `proposer examples: ${proposer}`);
  assert.ok((c.by.warm_start ?? 0) > 100, `warm start left out ${c.by.warm_start}`);
});

test('DSL proposals, buffer and replay: the held-out check flags exactly the held-out prompts among 100,000 tasks', () => {
  const config = shipped('absolute-zero');
  const recipe = registry.get('absolute-zero');
  const vocab = vocabularyFor(recipe, config);
  const oracle = dslOracle(config, vocab);
  const heldOut = recipe.heldOut!(config);
  // Tasks from the held-out cells' own distribution (most programs small), so many collide.
  const rng = createRng(99);
  let flagged = 0;
  for (let n = 0; n < N; n++) {
    const type = rng.pick(TASK_TYPES);
    const t = generateTask(rng, type, rng.pick(DIFFICULTIES.slice(0, 2)));
    const asWire = { type, program: programText(t.program), inputs: t.inputs };
    const expect = oracle.has(key(solverPromptIds(vocab, t)));
    assert.equal(heldOut.has(asWire), expect && recipe.validateTask(asWire, config.options).valid, 'held-out check disagrees with the oracle');
    if (expect) flagged++;
  }
  assert.ok(flagged > 100, `only ${flagged} held-out collisions drawn: the check was not exercised`);
});

test('r-zero: 100,000 warm-start examples and 100,000 challenger-style questions at the default eval seed', () => {
  const config = shipped('r-zero');
  const recipe = registry.get('r-zero');
  const vocab = vocabularyFor(recipe, config);
  const held = arithHeldOutSet(config.eval.seed, config.eval.episodes);
  const oracle = new Set(held.map((q) => key(solverPrompt(vocab, q.question))));
  const heldQuestions = new Set(held.map((q) => q.question));
  const c = counter();
  const stream = recipe.warmStartExamples!(config, vocab, 4, c.cb);
  for (let n = 0; n < N; n += 5000) {
    for (const ex of stream(5000)) {
      assert.ok(!oracle.has(key(ex.tokens.slice(0, ex.mask.indexOf(1)))), 'a held-out question became an example');
      // A challenger example's target is a question: never a held-out one either.
      if (ex.mask.indexOf(1) === 2) assert.ok(!heldQuestions.has(vocab.decode(ex.tokens.slice(2, -1))), 'a held-out question became a challenger example');
    }
  }
  assert.ok((c.by.warm_start ?? 0) > 0, 'the warm start left nothing out');
  // Proposals: generator questions (colliding with the held-out ones at the same rate as the
  // eval's own generator), some spelled with redundant parentheses; validation canonicalises them.
  const heldOut = recipe.heldOut!(config);
  const rng = seededRng(21);
  let flagged = 0;
  for (let n = 0; n < N; n++) {
    const q = randomExpression(rng, EVAL_DIFFICULTIES[Math.floor(rng() * EVAL_DIFFICULTIES.length)]!).question;
    const spelled = n % 2 ? `(${q})` : q;
    const v = recipe.validateTask({ question: spelled, references: [] }, config.options);
    const expect = v.valid && oracle.has(key(solverPrompt(vocab, (v.task as { question: string }).question)));
    assert.equal(heldOut.has({ question: spelled, references: [] }), expect);
    if (expect) flagged++;
  }
  assert.ok(flagged > 100, `only ${flagged} held-out collisions drawn`);
});
