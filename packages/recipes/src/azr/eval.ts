/**
 * Held-out evaluation of both DSL recipes: a FIXED task set from the seeded generator
 * (dsl heldOutSet: graded difficulty 1..3, never written by a proposer), answered greedily
 * (temperature 0) with the grammar mask when options.constrain, judged by the executor.
 *
 * Per suite ('dsl-<type>'): `episodes` questions split evenly over the three difficulties.
 * Tasks whose prompt or reference answer exceeds the token budgets (maxPromptTokens /
 * maxAnswerTokens) are not posed; they count as wrong and are reported as `tooLong`.
 *   accuracy     correct / count (all tasks)        accuracyD1..D3  the same per difficulty
 *   formatRate   formatted / posed answers           count, tooLong
 *
 * Text mode (PolicyHandle.text, warmStart.from: hf): the same tasks posed in the solver's chat
 * prompt (text.ts), answered greedily within textAnswerTokens, read from the last
 * `<answer>…</answer>`. "Posable" keeps its symbol-mode meaning (the task's size in DSL symbols).
 */
import type { TaskType, Task } from '../dsl/index.ts';
import { heldOutSet } from '../dsl/index.ts';
import type { EvalOptions, EvalReport, PolicyHandle } from '../recipe.ts';
import type { SolverOptions } from './options.ts';
import { answer, judgeSymbols, judgeText, responseSymbols } from './solve.ts';
import { posable } from './tasks.ts';

export const DSL_SUITES: Readonly<Record<TaskType, string>> = { deduction: 'dsl-deduction', abduction: 'dsl-abduction', induction: 'dsl-induction' };
const BATCH = 64;

export function dslSuites(o: Pick<SolverOptions, 'taskTypes'>): string[] {
  return o.taskTypes.map((t) => DSL_SUITES[t]);
}

let cached: { key: string; tasks: Task[] } | undefined;
function fixedSet(seed: number, perCell: number): Task[] {
  const key = `${seed}:${perCell}`;
  if (cached?.key !== key) cached = { key, tasks: heldOutSet(seed, perCell) };
  return cached.tasks;
}

async function evalType(policy: PolicyHandle, type: TaskType, opts: EvalOptions, o: SolverOptions): Promise<Record<string, number>> {
  const perCell = Math.max(1, Math.ceil(opts.episodes / 3));
  const tasks = fixedSet(opts.seed, perCell).filter((t) => t.type === type);
  const posed = tasks.filter((t) => posable(t, o) === undefined);
  const right = new Set<Task>();
  let formatted = 0;
  for (let i = 0; i < posed.length; i += BATCH) {
    const batch = posed.slice(i, i + BATCH);
    const { samples } = await answer(policy, batch, o, { temperature: 0, topP: 1, seed: opts.seed });
    samples.forEach((s, k) => {
      const j = policy.text
        ? judgeText(batch[k]!, policy.text, s.tokens.slice(s.promptLength), o)
        : judgeSymbols(batch[k]!, responseSymbols(policy.vocab, s, 'eval answer'), o);
      if (j.formatOk) formatted++;
      if (j.correct) right.add(batch[k]!);
    });
  }
  const report: Record<string, number> = {
    accuracy: tasks.length ? right.size / tasks.length : 0,
    formatRate: posed.length ? formatted / posed.length : 0,
    count: tasks.length,
    tooLong: tasks.length - posed.length,
  };
  for (const d of [1, 2, 3] as const) {
    const ofD = tasks.filter((t) => t.difficulty === d);
    report[`accuracyD${d}`] = ofD.length ? ofD.filter((t) => right.has(t)).length / ofD.length : 0;
  }
  return report;
}

export async function evaluateDsl(policy: PolicyHandle, suites: readonly string[], opts: EvalOptions, o: SolverOptions): Promise<EvalReport> {
  const report: EvalReport = {};
  for (const type of o.taskTypes) {
    const suite = DSL_SUITES[type];
    if (suites.includes(suite)) report[suite] = await evalType(policy, type, opts, o);
  }
  return report;
}
