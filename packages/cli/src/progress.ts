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

/** One status line: [#####.....] step/max state reward eval. */
export function progressLine(r: ExperimentRecord, maxSteps: number, width = 24): string {
  const ws = r.warmStart;
  if (ws && ws.state === 'running') {
    const f = ws.steps ? Math.min(1, ws.step / ws.steps) : 0;
    const wbar = '#'.repeat(Math.round(f * width)).padEnd(width, '.');
    const loss = ws.loss === undefined ? '' : ` loss ${ws.loss.toFixed(3)}`;
    return `[${wbar}] warm start (${ws.from}) ${ws.step}${ws.steps ? `/${ws.steps}` : ''} ${r.state}${loss} ${fmtEval(r.eval)}`;
  }
  const frac = Math.min(1, r.step / Math.max(1, maxSteps));
  const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
  const m = r.metrics ?? {};
  const reward = m.meanReward === undefined ? '' : ` reward ${m.meanReward.toFixed(3)}`;
  const judged = (m.ingested ?? 0) + (m.droppedStale ?? 0);
  const stale = judged > 0 && m.droppedStale !== undefined ? ` stale ${pct(m.droppedStale / judged)}` : '';
  const busy = m.learnerBusy === undefined ? '' : ` learner busy ${pct(m.learnerBusy)}`;
  return `[${bar}] ${r.step}/${maxSteps} ${r.state} v${r.policyVersion}${reward}${stale}${busy} ${fmtEval(r.eval)}`;
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
