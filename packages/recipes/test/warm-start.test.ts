import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExperiment, ValidationError, type ExperimentConfig } from '@spar/core';
import { EOS_ID } from '@spar/policy/schema';
import { builtinRecipes, vocabularyFor } from '../src/index.ts';
import { heldOutSet as arithHeldOut, randomExpression, EVAL_DIFFICULTIES } from '../src/arith/generator.ts';
import { challengerPrompt, checkQuestion, solverPrompt } from '../src/arith/task.ts';
import { createRng, DIFFICULTIES, generateTask, heldOutSet as dslHeldOut, taskKey } from '../src/dsl/index.ts';
import { solverPromptIds } from '../src/azr/tasks.ts';
import { seededRng } from '../src/games/index.ts';

const registry = builtinRecipes();
const parse = (c: object) => parseExperiment(c, registry);
const key = (a: readonly number[]) => a.join(',');

test('r-zero warm-start examples: solver prompt + exact answer + <eos>, loss on the answer only, never a held-out question', () => {
  // A large held-out set so that the generator does produce its questions (positive control below).
  const config = parse({ name: 'w', recipe: 'r-zero', eval: { episodes: 400, seed: 7 } }) as ExperimentConfig<any>;
  const recipe = registry.get('r-zero');
  const vocab = vocabularyFor(recipe, config);
  const heldOut = arithHeldOut(7, 400);
  const heldPrompts = new Set(heldOut.map((q) => key(solverPrompt(vocab, q.question))));
  const examples = recipe.warmStartExamples!(config, vocab, 11)(3000);
  const challenge = key(challengerPrompt(vocab));
  let questions = 0;
  for (const ex of examples) {
    assert.equal(ex.tokens.length, ex.mask.length);
    const p = ex.mask.indexOf(1);
    assert.ok(p > 0 && ex.mask.slice(p).every((m) => m === 1), 'mask: 0 on the prompt, 1 on the answer');
    assert.equal(ex.tokens.at(-1), EOS_ID);
    if (key(ex.tokens.slice(0, p)) === challenge) {
      // The challenger's prompt: a valid question, never a held-out one.
      const q = vocab.decode(ex.tokens.slice(p, -1));
      assert.ok(!heldOut.some((h) => h.question === q), `held-out question ${q} became a challenger example`);
      assert.equal(checkQuestion(q, config.options).canonical, q);
      questions++;
      continue;
    }
    assert.ok(!heldPrompts.has(key(ex.tokens.slice(0, p))), 'a held-out question became an example');
    const question = vocab.decode(ex.tokens.slice(2, p - 1));
    const answer = vocab.decode(ex.tokens.slice(p, -1));
    assert.equal(String(Function(`return (${question})`)()), answer, `${question} = ${answer}`);
  }
  // One in eight teaches the challenger's prompt (3000 × 1/8 = 375 ± 3σ).
  assert.ok(questions > 320 && questions < 430, `${questions} challenger examples of 3000`);
  // With maxOperators 1 the challenger's examples have one operator.
  const one = parse({ name: 'w', recipe: 'r-zero', options: { maxOperators: 1 } }) as ExperimentConfig<any>;
  const qs = recipe.warmStartExamples!(one, vocab, 3)(800).filter((ex) => key(ex.tokens.slice(0, 2)) === challenge);
  assert.ok(qs.length > 50 && qs.every((ex) => checkQuestion(vocab.decode(ex.tokens.slice(2, -1)), one.options).operators === 1));
  // Positive control: the same generator, unfiltered, does hit held-out questions, so the
  // filter above is what kept them out.
  const rng = seededRng(11);
  const heldQ = new Set(heldOut.map((q) => q.question));
  const hits = Array.from({ length: 3000 }, () => randomExpression(rng, EVAL_DIFFICULTIES[Math.floor(rng() * 4)]!)).filter((q) => heldQ.has(q.question)).length;
  assert.ok(hits > 0, 'the unfiltered stream repeats held-out questions');
  // Deterministic in its seed.
  assert.deepEqual(recipe.warmStartExamples!(config, vocab, 11)(5), examples.slice(0, 5));
});

test('DSL warm-start examples (absolute-zero, rlvr-fixed): generator tasks of the configured types, never a held-out task', () => {
  for (const name of ['absolute-zero', 'rlvr-fixed']) {
    const config = parse({ name: 'w', recipe: name, eval: { episodes: 600, seed: 3 } }) as ExperimentConfig<any>;
    const recipe = registry.get(name);
    const vocab = vocabularyFor(recipe, config);
    const held = dslHeldOut(3, 200);
    const heldPrompts = new Set(held.map((t) => key(solverPromptIds(vocab, t))));
    const examples = recipe.warmStartExamples!(config, vocab, 5)(1500);
    for (const ex of examples) {
      const p = ex.mask.indexOf(1);
      assert.ok(!heldPrompts.has(key(ex.tokens.slice(0, p))), `${name}: a held-out task became an example`);
      assert.equal(ex.tokens.at(-1), EOS_ID);
    }
    // Positive control at difficulty 1 (small program space): the raw generator repeats held-out tasks.
    const rng = createRng(5);
    const heldKeys = new Set(held.map(taskKey));
    const hits = Array.from({ length: 1500 }, () => generateTask(rng, rng.pick(['deduction', 'abduction', 'induction'] as const), DIFFICULTIES[0]!)).filter((t) => heldKeys.has(taskKey(t))).length;
    assert.ok(hits > 0, `${name}: the unfiltered generator repeats held-out tasks`);
  }
});

test('warmStart config: each source needs its fields; a recipe without examples refuses sft with a clear error', () => {
  const bad = (c: object, path: string, re: RegExp) => {
    assert.throws(() => parse({ name: 'w', recipe: 'r-zero', ...c }), (e: ValidationError) => e.issues.some((i) => i.path === path && re.test(i.message)));
  };
  bad({ warmStart: { from: 'sft' } }, '/warmStart/steps', /steps or minutes/);
  bad({ warmStart: { from: 'sft', steps: 5, id: 'x' } }, '/warmStart/id', /not used with from: sft/);
  bad({ warmStart: { from: 'experiment' } }, '/warmStart/id', /needs the id/);
  bad({ warmStart: { from: 'checkpoint' } }, '/warmStart/path', /needs a path/);
  bad({ warmStart: { from: 'export', path: '/x', steps: 3 } }, '/warmStart/steps', /not used with from: export/);
  bad({ warmStart: { from: 'somewhere' } }, '/warmStart/from', /./);
  assert.throws(
    () => parse({ name: 'w', recipe: 'spiral-games', warmStart: { from: 'sft', steps: 10 } }),
    (e: ValidationError) => e.issues.some((i) => i.path === '/warmStart/from' && /spiral-games supplies no warm-start examples/.test(i.message) && /r-zero/.test(i.message)),
  );
  const ok = parse({ name: 'w', recipe: 'r-zero', warmStart: { from: 'sft', minutes: 2 } });
  assert.equal(ok.warmStart?.batchSize, 64, 'defaults applied');
  assert.ok(parse({ name: 'w', recipe: 'spiral-games', warmStart: { from: 'checkpoint', path: '/data/x' } }).warmStart);
});
