import type { ExperimentRecord } from '@spar/core';

function fmtEval(ev: ExperimentRecord['eval']): string {
  if (!ev) return '';
  return Object.entries(ev).map(([suite, m]) => {
    const main = m.drawRate !== undefined ? `W${pct(m.winRate)} D${pct(m.drawRate)} L${pct(m.lossRate)}`
      : m.exploitability !== undefined ? `expl ${m.exploitability.toFixed(3)}`
      : m.accuracy !== undefined ? `acc ${pct(m.accuracy)}` : '';
    return `${suite}: ${main}`;
  }).join(' | ');
}
const pct = (x?: number) => (x === undefined ? '?' : `${Math.round(x * 100)}%`);

/** The self-play budget of a run: whichever of the two binds first ends it. */
export interface Budget {
  readonly maxSteps: number;
  readonly maxMinutes: number;
}

/** The budget of a record's config. */
export function budgetOf(r: ExperimentRecord): Budget {
  const b = (r.config as { budget?: Partial<Budget> } | undefined)?.budget ?? {};
  return { maxSteps: b.maxSteps ?? Infinity, maxMinutes: b.maxMinutes ?? Infinity };
}

const mins = (m: number) => (m >= 10 ? `${Math.round(m)} min` : `${m.toFixed(1)} min`);

/**
 * One status line: [#####.....] progress state reward eval. The bar follows the budget that binds:
 * steps (`step/max`), or, when at the current pace the time limit comes first, self-play minutes
 * (`step N · 12.5/25 min`); either way with an ETA once the pace is known. Self-play time starts
 * after the warm start, as the learner counts it.
 */
export function progressLine(r: ExperimentRecord, budget: Budget, width = 24, now = Date.now()): string {
  const ws = r.warmStart;
  if (ws && ws.state === 'running') {
    const f = ws.steps ? Math.min(1, ws.step / ws.steps) : 0;
    const wbar = '#'.repeat(Math.round(f * width)).padEnd(width, '.');
    const loss = ws.loss === undefined ? '' : ` loss ${ws.loss.toFixed(3)}`;
    return `[${wbar}] warm start (${ws.from}) ${ws.step}${ws.steps ? `/${ws.steps}` : ''} ${r.state}${loss} ${fmtEval(r.eval)}`;
  }
  const started = r.startedAt ? Date.parse(r.startedAt) + (ws?.seconds ?? 0) * 1000 : undefined;
  const end = r.state === 'running' || !r.finishedAt ? now : Date.parse(r.finishedAt);
  const elapsed = started !== undefined && r.state !== 'queued' ? Math.max(0, (end - started) / 60000) : undefined;
  const pace = elapsed && r.step > 0 ? r.step / elapsed : undefined; // steps a minute
  const timeBinds = Number.isFinite(budget.maxMinutes) && (!Number.isFinite(budget.maxSteps) || (pace !== undefined && pace * budget.maxMinutes < budget.maxSteps));
  let frac: number;
  let where: string;
  let eta: number | undefined;
  if (timeBinds && elapsed !== undefined) {
    frac = elapsed / budget.maxMinutes;
    where = `step ${r.step} · ${elapsed.toFixed(1)}/${budget.maxMinutes} min`;
    eta = budget.maxMinutes - elapsed;
  } else {
    frac = r.step / Math.max(1, budget.maxSteps);
    where = `${r.step}/${budget.maxSteps}`;
    eta = pace ? (budget.maxSteps - r.step) / pace : undefined;
  }
  const bar = '#'.repeat(Math.round(Math.min(1, Math.max(0, frac)) * width)).padEnd(width, '.');
  const m = r.metrics ?? {};
  const reward = m.meanReward === undefined ? '' : ` reward ${m.meanReward.toFixed(3)}`;
  const judged = (m.ingested ?? 0) + (m.droppedStale ?? 0);
  const stale = judged > 0 && m.droppedStale !== undefined ? ` stale ${pct(m.droppedStale / judged)}` : '';
  const busy = m.learnerBusy === undefined ? '' : ` learner busy ${pct(m.learnerBusy)}`;
  const left = eta !== undefined && r.state === 'running' ? ` ETA ${mins(Math.max(0, eta))}` : '';
  const lg = r.league;
  const expl = lg?.best?.exploitability !== undefined ? `, exploitability ${lg.best.exploitability.toFixed(3)}` : '';
  const league = lg?.best ? ` best v${lg.best.version} (${Math.round(lg.best.rating)} Elo${lg.latest ? `, latest ${Math.round(lg.latest.rating)}` : ''}${expl})` : '';
  // Named policies: each one's version (frozen ones marked) instead of the one version.
  // With rounds: the round, the policy the phase trains marked `*`, and what each copy holds.
  const round = r.round ? ` round ${r.round.round + 1}` : '';
  const named = (name: string, p: NonNullable<typeof r.policies>[string]) =>
    `${name} v${p.version}${p.training ? '*' : ''}${p.copyOf ? ` (= ${p.copyOf.policy} v${p.copyOf.version})` : p.frozen ? ' (frozen)' : ''}`;
  const version = r.policies ? `${round} ${Object.entries(r.policies).map(([name, p]) => named(name, p)).join(', ')}` : ` v${r.policyVersion}`;
  return `[${bar}] ${where} ${r.state}${left}${version}${reward}${stale}${busy}${league} ${fmtEval(r.eval)}`;
}

/** Redraw a status line on a TTY; print plain lines (at most every few seconds) otherwise. */
export class StatusLine {
  private last = '';
  private lastAt = 0;
  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}
  update(line: string): void {
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line.slice(0, (this.out.columns ?? 120) - 1)}`);
    } else if (line !== this.last && Date.now() - this.lastAt > 5000) {
      this.out.write(`${line}\n`);
      this.lastAt = Date.now();
    }
    this.last = line;
  }
  done(): void {
    if (this.out.isTTY) this.out.write('\n');
    else if (this.last) this.out.write(`${this.last}\n`);
  }
}
