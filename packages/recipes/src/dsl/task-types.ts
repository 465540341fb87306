/** Task and draft shapes of the Absolute Zero task types (deduction, abduction, induction). */
import type { Program, Value } from './ast.ts';

export type TaskType = 'deduction' | 'abduction' | 'induction';
export const TASK_TYPES: readonly TaskType[] = Object.freeze(['deduction', 'abduction', 'induction']);
export type Difficulty = 1 | 2 | 3;
export const DIFFICULTIES: readonly Difficulty[] = Object.freeze([1, 2, 3]);

/** An input `x`: a list of 0..INPUT_MAX_LEN ints, each 0..INPUT_MAX_ELEM. */
export type Input = readonly number[];

/**
 * A validated task. outputs[i] = program(inputs[i]).
 *   deduction: solver sees program + inputs[0], answers outputs[0] (a value)
 *   abduction: solver sees program + outputs[0], answers any input with that output
 *   induction: solver sees the first `shown` pairs, answers a program; judged on ALL pairs
 *              (the rest are held out)
 */
export interface Task {
  readonly type: TaskType;
  readonly program: Program;
  readonly inputs: readonly Input[];
  readonly outputs: readonly Value[];
  /** Pairs shown to the solver: 1 for deduction/abduction; for induction < inputs.length is typical. */
  readonly shown: number;
  /** Set by the fixed generator (pipeline-length grade); absent on proposer-written tasks. */
  readonly difficulty?: Difficulty;
}

/** What a proposer writes: a program and its inputs (one for deduction/abduction, several for induction). */
export interface Draft {
  readonly program: Program;
  readonly inputs: readonly Input[];
}

/** Fewest inputs an induction draft must carry (at least one shown and one held out). */
export const INDUCTION_MIN_INPUTS = 2;
