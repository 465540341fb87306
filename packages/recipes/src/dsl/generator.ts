/**
 * Fixed, uniform task generator: the rlvr-fixed control group's task source and the held-out
 * evaluation set. Difficulty grades pipeline length: 1 → 1–2 stages, 2 → 3–4, 3 → 5–6.
 *
 * Sampling: at a list-typed position a list→list stage is chosen with probability 3/4 (1/2 at the
 * last stage), otherwise a reducer; int-typed positions take an arithmetic stage. Constants
 * avoid no-ops: + and - use 1..9, * / and % use 2..9, take/drop 1..6, comparisons 0..9.
 * Tasks are built through validateProposal, so they are valid by construction; programs that
 * fail or are constant on a fixed number of random probe inputs are rejected and redrawn.
 */
import {
  arithS, dropS, filterS, fn, mapS, pred, program, simpleS, stageOutput, takeS,
  type Fn, type FnOp, type Pred, type Program, type Stage, type Ty, type Value,
} from './ast.ts';
import { GeneratorExhaustedError } from './errors.ts';
import { run, valuesEqual } from './interpreter.ts';
import { INPUT_MAX_ELEM, INPUT_MAX_LEN, MAX_STAGES } from './limits.ts';
import { createRng, type Rng } from './rng.ts';
import { FN_OPS, LIST_TO_INT } from './symbols.ts';
import { DIFFICULTIES, TASK_TYPES, type Difficulty, type Input, type Task, type TaskType } from './task-types.ts';
import { taskHash, validateProposal } from './tasks.ts';

export function randomFn(rng: Rng): Fn {
  const op = rng.pick(FN_OPS) as FnOp;
  return fn(op, op === '+' || op === '-' ? rng.range(1, 9) : rng.range(2, 9));
}

export function randomPred(rng: Rng): Pred {
  const op = rng.pick(['gt', 'lt', 'eq', 'even', 'odd'] as const);
  return op === 'even' || op === 'odd' ? pred(op) : pred(op, rng.range(0, 9));
}

export function randomStage(rng: Rng, ty: Ty, last = false): Stage {
  if (ty === 'int') return arithS(randomFn(rng));
  if (rng.next() < (last ? 0.5 : 0.75)) {
    switch (rng.pick(['map', 'filter', 'reverse', 'sort', 'take', 'drop'] as const)) {
      case 'map': return mapS(randomFn(rng));
      case 'filter': return filterS(randomPred(rng));
      case 'take': return takeS(rng.range(1, 6));
      case 'drop': return dropS(rng.range(1, 6));
      case 'reverse': return simpleS('reverse');
      case 'sort': return simpleS('sort');
    }
  }
  return simpleS(rng.pick(LIST_TO_INT));
}

/** Stage-count range of a difficulty grade. */
export function stagesFor(d: Difficulty): readonly [number, number] {
  return d === 1 ? [1, 2] : d === 2 ? [3, 4] : [5, 6];
}

/** A well-typed random program with exactly `stages` stages (1..MAX_STAGES). */
export function randomProgram(rng: Rng, opts: { readonly stages: number }): Program {
  const n = Math.min(Math.max(1, Math.trunc(opts.stages)), MAX_STAGES);
  const stages: Stage[] = [];
  let ty: Ty = 'list';
  for (let i = 0; i < n; i++) {
    const s = randomStage(rng, ty, i === n - 1);
    stages.push(s);
    ty = stageOutput(s);
  }
  return program(stages);
}

/** A random input: length uniform in [minLen, maxLen] (default 0..8), elements uniform 0..9. */
export function randomInput(rng: Rng, opts: { readonly minLen?: number; readonly maxLen?: number } = {}): number[] {
  const len = rng.range(opts.minLen ?? 0, opts.maxLen ?? INPUT_MAX_LEN);
  return Array.from({ length: len }, () => rng.range(0, INPUT_MAX_ELEM));
}

export interface GenerateOptions {
  readonly maxAttempts?: number;
  /** Probe inputs used to reject failing / constant programs (default 8). */
  readonly probes?: number;
  /** Induction: pairs shown (default 3) and held out (default 2). */
  readonly shown?: number;
  readonly heldOut?: number;
}

/** Runs on every probe without error, and not all outputs equal. */
function nonTrivial(rng: Rng, p: Program, probes: number): boolean {
  let first: Value | undefined;
  let varies = false;
  for (let i = 0; i < probes; i++) {
    const r = run(p, randomInput(rng, { minLen: 1 }));
    if (!r.ok) return false;
    if (first === undefined) first = r.value;
    else if (!valuesEqual(first, r.value)) varies = true;
  }
  return varies;
}

function distinctInputs(rng: Rng, n: number): Input[] {
  const seen = new Set<string>();
  const out: Input[] = [];
  while (out.length < n) {
    const x = randomInput(rng, { minLen: 1, maxLen: 6 });
    const k = x.join(',');
    if (!seen.has(k)) { seen.add(k); out.push(x); }
  }
  return out;
}

/** One valid, non-trivial task of a type and difficulty. Deterministic given the rng state. */
export function generateTask(rng: Rng, type: TaskType, difficulty: Difficulty, opts: GenerateOptions = {}): Task {
  const maxAttempts = opts.maxAttempts ?? 200;
  const [lo, hi] = stagesFor(difficulty);
  const shown = opts.shown ?? 3;
  const heldOut = opts.heldOut ?? 2;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const p = randomProgram(rng, { stages: rng.range(lo, hi) });
    if (!nonTrivial(rng, p, opts.probes ?? 8)) continue;
    const inputs = type === 'induction' ? distinctInputs(rng, shown + heldOut) : [randomInput(rng)];
    const v = validateProposal(type, { program: p, inputs }, { shown });
    if (!v.ok) continue;
    if (type === 'induction' && v.task.outputs.every((y) => valuesEqual(y, v.task.outputs[0]!))) continue;
    return { ...v.task, difficulty };
  }
  throw new GeneratorExhaustedError(`${type} task at difficulty ${difficulty}`, maxAttempts);
}

/** A task of uniformly random type and difficulty (the rlvr-fixed stream). */
export function randomTask(rng: Rng, opts: GenerateOptions = {}): Task {
  return generateTask(rng, rng.pick(TASK_TYPES), rng.pick(DIFFICULTIES), opts);
}

function cellSeed(seed: number, typeIndex: number, d: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(typeIndex + 1, 0x27d4eb2d) + Math.imul(d, 0x165667b1)) >>> 0;
}

/**
 * The fixed held-out evaluation set: `count` distinct tasks for every (type, difficulty), in
 * type-major then difficulty order. Each cell has its own rng stream, so the set depends only on
 * (seed, count) and a smaller count gives a per-cell prefix of a larger one.
 */
export function heldOutSet(seed: number, countPerTypeAndDifficulty: number): Task[] {
  const out: Task[] = [];
  TASK_TYPES.forEach((type, ti) => {
    for (const d of DIFFICULTIES) {
      const rng = createRng(cellSeed(seed, ti, d));
      const seen = new Set<string>();
      let tries = 0;
      while (seen.size < countPerTypeAndDifficulty) {
        if (tries++ > 50 * countPerTypeAndDifficulty + 50) throw new GeneratorExhaustedError(`distinct ${type}/${d} held-out task`, tries);
        const t = generateTask(rng, type, d);
        const key = taskHash(t);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(t);
      }
    }
  });
  return out;
}
