import { curves } from './curves.ts';
import { INK, MUTED } from './palette.ts';
import { panel, PANEL_HEIGHT, PANEL_WIDTH } from './panel.ts';
import type { ReportRecord } from './record.ts';
import { document, el, esc, text } from './svg.ts';

const MARGIN = 20;
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The header lines: what ran, how it ended, and the warm start if there was one. */
function header(rec: ReportRecord, evaluations: number, warmStartSteps: number, gates: number): string[] {
  const cfg = (typeof rec.config === 'object' && rec.config !== null ? rec.config : {}) as { recipe?: unknown; name?: unknown };
  const recipe = typeof cfg.recipe === 'string' ? cfg.recipe : 'unknown recipe';
  const name = typeof cfg.name === 'string' && cfg.name !== rec.id ? ` (${cfg.name})` : '';
  const lines = [
    `recipe ${recipe}${name} · final state ${rec.state}${rec.reason ? `: ${rec.reason}` : ''} · step ${rec.step}${rec.policyVersion === undefined ? '' : ` · policy v${rec.policyVersion}`} · ${evaluations} evaluations${gates > 0 ? ` · ${gates} league gates` : ''}`,
  ];
  const w = rec.warmStart;
  if (w || warmStartSteps > 0) {
    const from = w ? ` from ${w.from}` : '';
    const steps = w ? `${w.step}${w.steps === undefined ? '' : `/${w.steps}`} steps, ${w.state}` : `${warmStartSteps} steps`;
    lines.push(`warm start${from}: ${steps} (shaded); self-play step s is drawn at x = ${warmStartSteps} + s`);
  }
  return lines;
}

/**
 * The whole report as an SVG document: a header, then the panels of curves() in a grid, all
 * sharing one x axis. Throws when the record has nothing to plot.
 */
export function renderReport(rec: ReportRecord): string {
  const c = curves(rec);
  const n = c.panels.length;
  const cols = n <= 1 ? 1 : n <= 4 ? 2 : 3;
  const rows = Math.ceil(n / cols);
  const lines = header(rec, c.evaluations, c.warmStartSteps, c.gates);
  const top = MARGIN + 24 + lines.length * 16 + 12;
  const width = 2 * MARGIN + cols * PANEL_WIDTH;
  const height = top + rows * (PANEL_HEIGHT + 12) + MARGIN;
  const xLabel = c.hasWarmStart ? 'step (warm start shaded)' : 'step';
  const xDomain = [0, Math.max(1, c.xMax)] as const;
  return document(width, height,
    el('title', {}, esc(`spar report: ${rec.id}`)),
    el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    text(MARGIN, MARGIN + 16, `spar · ${rec.id}`, { class: 'title', 'font-size': 18, 'font-weight': 'bold', fill: INK }),
    ...lines.map((l, i) => text(MARGIN, MARGIN + 40 + i * 16, clip(l, 40 + 62 * cols), { class: 'subtitle', 'font-size': 12, fill: MUTED })),
    ...c.panels.map((p, i) => panel(p, {
      x: MARGIN + (i % cols) * PANEL_WIDTH, y: top + Math.floor(i / cols) * (PANEL_HEIGHT + 12),
      xDomain, warmStartSteps: c.warmStartSteps, xLabel,
    })));
}
