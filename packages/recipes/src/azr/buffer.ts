/**
 * absolute-zero's task buffer: the seed it starts from (AZR seeds 256 valid triplets before
 * self-play), what makes a proposal a copy, and replay labels.
 *
 * Near-duplicates are judged by program: two tasks with the same program (printed canonically)
 * are copies whatever their inputs (for AZR-style induction, whose program is given, by the whole
 * task). The program is what the proposer writes and what makes a
 * task new to the solver; re-posing a reference's program on another input is the cheapest way
 * to a valid, solvable task and teaches the curriculum nothing, so it is what the penalty must
 * price. A finer measure (token edit distance) would also catch one-stage edits, which are
 * genuinely new tasks at this scale.
 */
import type { ExperimentConfig } from '@spar/core';
import { createRng, DIFFICULTIES, GeneratorExhaustedError, generateTask, programText, type Difficulty, type TaskType } from '../dsl/index.ts';
import type { OnExcluded } from '../held-out.ts';
import { dslTaskHeldOut } from './held-out.ts';
import type { AzrOptions } from './options.ts';
import { givesProgram } from './propose.ts';
import { checkTask, toWire, type WireTask } from './tasks.ts';

/** Draws per seed task before giving up on a type (every draw invalid, held out or repeated). */
const DRAWS_PER_TASK = 50;

/**
 * `seedTasks` generator tasks per task type, difficulties uniform over 1..difficultyOfSeed, each
 * valid under the options, distinct, and never a held-out prompt (those are reported as 'seed').
 */
export function dslSeedTasks(config: ExperimentConfig<AzrOptions>, seed: number, excluded?: OnExcluded): WireTask[] {
  const o = config.options;
  const rng = createRng(seed >>> 0);
  const grades = DIFFICULTIES.filter((d) => d <= o.difficultyOfSeed) as Difficulty[];
  const out: WireTask[] = [];
  let heldOut = 0;
  for (const type of o.taskTypes) {
    const keys = new Set<string>();
    for (let draw = 0; keys.size < o.seedTasks && draw < DRAWS_PER_TASK * o.seedTasks; draw++) {
      let c;
      try {
        c = checkTask(toWire(generateTask(rng, type as TaskType, rng.pick(grades), { shown: o.solverShown, heldOut: o.heldOut })), o);
      } catch (e) {
        if (e instanceof GeneratorExhaustedError) continue;
        throw e;
      }
      if (!c.ok || keys.has(c.key)) continue;
      if (dslTaskHeldOut(config, c.task)) { heldOut++; continue; }
      keys.add(c.key);
      out.push(c.wire);
    }
  }
  if (heldOut) excluded?.('seed', heldOut);
  return out;
}

/**
 * What makes a DSL task new: its canonical program text; for AZR-style induction, where the
 * program is given, the whole task (and no program of the proposer's own). Undefined for an
 * invalid task.
 */
export function dslNovelty(task: unknown, o: AzrOptions): { key: string; program?: string } | undefined {
  const c = checkTask(task, o);
  if (!c.ok) return undefined;
  const program = programText(c.task.program);
  return givesProgram(c.task.type, o) ? { key: c.key } : { key: program, program };
}

/** A buffer task posed again for the solver: labelled, so its group's stats say 'replay'. */
export function replayLabel(task: unknown): unknown {
  return task && typeof task === 'object' ? { ...(task as object), replay: true } : task;
}

export function isReplay(task: unknown): boolean {
  return !!task && typeof task === 'object' && (task as { replay?: unknown }).replay === true;
}
