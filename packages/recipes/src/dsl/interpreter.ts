/**
 * Interpreter with a fuel bound. Deterministic: the result depends only on (program, input, fuel).
 *
 * Semantics (ints are JS safe integers, always within ±MAX_INT or an error is raised):
 *   + k, - k, * k      usual arithmetic
 *   / k                floor division (k ≥ 1): -7 / 2 = -4
 *   % k                modulo with a non-negative result (k ≥ 1): -7 % 2 = 1
 *   map f / filter p   element-wise, order kept;  gt k: e > k, lt k: e < k, eq k: e = k,
 *                      even / odd on the mathematical parity (negative odd numbers are odd)
 *   reverse, sort      sort is ascending
 *   take k / drop k    first k elements / all but the first k (k beyond the length is fine)
 *   sum, len           of [] are 0
 *   max, min, head, last   of [] are 0 (total: every program runs on every input)
 * There are no loops or recursion, so every run terminates; fuel still bounds the work.
 *
 * Fuel: a stage costs 1 plus the length n of the list it reads (head/last and int stages cost 1,
 * sort costs 1 + n·⌈log2(n+1)⌉). The cost is charged before the stage runs; when it would take
 * the total past `fuel`, FuelExhaustedError is thrown and `used` never exceeds `fuel`.
 * Every intermediate int is checked against ±MAX_INT and every list against MAX_LIST_LEN
 * (ValueOverflowError).
 */
import { checkProgram, type Fn, type Pred, type Program, type Stage, type Value } from './ast.ts';
import { DslError, FuelExhaustedError, InvalidValueError, ValueOverflowError } from './errors.ts';
import { DEFAULT_FUEL, MAX_INT } from './limits.ts';
import { checkValue } from './printer.ts';

export interface RunOptions {
  /** Fuel budget (default DEFAULT_FUEL). */
  readonly fuel?: number;
}

export type RunResult =
  | { readonly ok: true; readonly value: Value; readonly fuelUsed: number }
  | { readonly ok: false; readonly error: DslError; readonly fuelUsed: number };

interface Meter { readonly fuel: number; used: number }

function charge(m: Meter, cost: number): void {
  if (m.used + cost > m.fuel) throw new FuelExhaustedError(m.fuel, m.used, cost);
  m.used += cost;
}

function bounded(n: number): number {
  if (!Number.isSafeInteger(n) || Math.abs(n) > MAX_INT) throw new ValueOverflowError('int', MAX_INT, n);
  return n === 0 ? 0 : n; // normalise -0
}

export function applyFn(f: Fn, a: number): number {
  switch (f.op) {
    case '+': return bounded(a + f.k);
    case '-': return bounded(a - f.k);
    case '*': return bounded(a * f.k);
    case '/': return bounded(Math.floor(a / f.k));
    case '%': return bounded(((a % f.k) + f.k) % f.k);
  }
}

export function testPred(p: Pred, a: number): boolean {
  switch (p.op) {
    case 'gt': return a > p.k;
    case 'lt': return a < p.k;
    case 'eq': return a === p.k;
    case 'even': return Math.abs(a % 2) === 0;
    case 'odd': return Math.abs(a % 2) === 1;
  }
}

function stageCost(s: Stage, v: Value): number {
  if (typeof v === 'number' || s.kind === 'head' || s.kind === 'last') return 1;
  const n = v.length;
  return s.kind === 'sort' ? 1 + n * Math.ceil(Math.log2(n + 1)) : 1 + n;
}

function applyStage(s: Stage, v: Value, at: number): Value {
  if (s.kind === 'arith') {
    if (typeof v !== 'number') throw new InvalidValueError(`stage ${at}: arith reads an int`);
    return applyFn(s.fn, v);
  }
  if (typeof v === 'number') throw new InvalidValueError(`stage ${at}: ${s.kind} reads a list`);
  switch (s.kind) {
    case 'map': return v.map((e) => applyFn(s.fn, e));
    case 'filter': return v.filter((e) => testPred(s.pred, e));
    case 'reverse': return [...v].reverse();
    case 'sort': return [...v].sort((a, b) => a - b);
    case 'take': return v.slice(0, s.k);
    case 'drop': return v.slice(s.k);
    case 'sum': return bounded(v.reduce((a, b) => a + b, 0));
    case 'len': return v.length;
    case 'max': return v.length ? Math.max(...v) : 0;
    case 'min': return v.length ? Math.min(...v) : 0;
    case 'head': return v[0] ?? 0;
    case 'last': return v[v.length - 1] ?? 0;
  }
}

/**
 * Run `p` on input `x` (an int list within the value limits). Throws FuelExhaustedError,
 * ValueOverflowError, InvalidValueError or InvalidProgramError (hand-built ASTs only).
 */
function newMeter(opts: RunOptions): Meter {
  const fuel = opts.fuel ?? DEFAULT_FUEL;
  if (!Number.isSafeInteger(fuel) || fuel < 0) throw new InvalidValueError(`fuel must be a non-negative integer, got ${fuel}`);
  return { fuel, used: 0 };
}

function runWith(m: Meter, p: Program, x: readonly number[]): Value {
  if (!Array.isArray(x)) throw new InvalidValueError('input x must be an int list');
  checkValue(x);
  checkProgram(p);
  let v: Value = x;
  p.stages.forEach((s, i) => {
    charge(m, stageCost(s, v));
    v = applyStage(s, v, i);
  });
  return v;
}

/**
 * Run `p` on input `x` (an int list within the value limits). Throws FuelExhaustedError,
 * ValueOverflowError, InvalidValueError or InvalidProgramError (hand-built ASTs only).
 */
export function execute(p: Program, x: readonly number[], opts: RunOptions = {}): { value: Value; fuelUsed: number } {
  const m = newMeter(opts);
  const value = runWith(m, p, x);
  return { value, fuelUsed: m.used };
}

/** Like execute, but DSL errors come back as `{ ok: false }` with the fuel used so far. */
export function run(p: Program, x: readonly number[], opts: RunOptions = {}): RunResult {
  const m = newMeter(opts);
  try {
    return { ok: true, value: runWith(m, p, x), fuelUsed: m.used };
  } catch (e) {
    if (!(e instanceof DslError)) throw e;
    return { ok: false, error: e, fuelUsed: m.used };
  }
}

/** Structural equality of values (ints compare by value, lists element-wise). */
export function valuesEqual(a: Value, b: Value): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  return a.length === b.length && a.every((e, i) => e === b[i]);
}

/**
 * How close a value is to the expected one, in [0, 1]; 1 exactly when valuesEqual. Integers:
 * 1 / (1 + |a − b|). Lists: elements equal at the same position over the longer length (two
 * empty lists: 1). An integer against a list: 0.
 */
export function valueSimilarity(a: Value, expected: Value): number {
  if (typeof a === 'number' && typeof expected === 'number') return 1 / (1 + Math.abs(a - expected));
  if (typeof a === 'number' || typeof expected === 'number') return 0;
  const n = Math.max(a.length, expected.length);
  if (n === 0) return 1;
  let same = 0;
  for (let i = 0; i < Math.min(a.length, expected.length); i++) if (a[i] === expected[i]) same++;
  return same / n;
}
