import type { PanelData } from './curves.ts';
import { GRID, INK, lineStyle, MUTED, WARM_SHADE } from './palette.ts';
import { fmtTick, fmtValue, linear, niceDomain, ticks } from './scale.ts';
import { el, esc, points, text } from './svg.ts';

export const PANEL_WIDTH = 440;
export const PANEL_HEIGHT = 250;
const PAD = { left: 54, right: 142, top: 38, bottom: 42 };
const LEGEND_CHARS = 16;
/** Above this many points a line gets no point markers. */
const MARKERS_UP_TO = 40;

export interface PanelFrame {
  /** Top-left corner of the panel in the document. */
  readonly x: number;
  readonly y: number;
  /** Shared x axis: [0, xMax]. */
  readonly xDomain: readonly [number, number];
  /** Shaded [0, warmStartSteps] (0: no shading). */
  readonly warmStartSteps: number;
  readonly xLabel: string;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * One small multiple: title, plot frame, y gridlines and ticks, x ticks, the warm-start shade,
 * a series' target band when the panel has one, one polyline per series (markers when few
 * points), legend with each line's last value.
 * The plot frame carries its domains (data-x-domain, data-y-domain) so a reader can map back.
 */
export function panel(p: PanelData, f: PanelFrame): string {
  const left = PAD.left, top = PAD.top, right = PANEL_WIDTH - PAD.right, bottom = PANEL_HEIGHT - PAD.bottom;
  const values = p.series.flatMap((s) => s.points.map(([, v]) => v));
  const yDomain: [number, number] = p.unit ? [0, 1] : niceDomain(Math.min(...values), Math.max(...values), 4);
  const sx = linear(f.xDomain, [left, right]);
  const sy = linear(yDomain, [bottom, top]);
  const out: string[] = [];

  out.push(el('text', { class: 'panel-title', x: 0, y: 14, 'font-size': 13, 'font-weight': 'bold', fill: INK }, esc(clip(p.title, 52)), ...(p.title.length > 52 ? [el('title', {}, esc(p.title))] : [])));
  if (p.note) out.push(text(0, 28, clip(p.note, 70), { class: 'panel-note', fill: MUTED, 'font-size': 10 }));
  if (f.warmStartSteps > 0) {
    const x0 = sx(0), x1 = sx(f.warmStartSteps);
    out.push(el('rect', { class: 'warmstart', x: x0, y: top, width: x1 - x0, height: bottom - top, fill: WARM_SHADE, 'fill-opacity': 0.08 }));
    if (x1 - x0 >= 56) out.push(text(x0 + 4, top + 12, 'warm start', { fill: MUTED, 'font-size': 10 }));
  }
  if (p.band) {
    // The target band of one series, in that series' colour, under the grid and the lines.
    const i = p.series.findIndex((s) => s.name === p.band!.series);
    const fill = lineStyle(Math.max(0, i)).stroke;
    const yHi = sy(Math.min(p.band.hi, yDomain[1])), yLo = sy(Math.max(p.band.lo, yDomain[0]));
    out.push(el('rect', { class: 'target-band', 'data-series': p.band.series, 'data-lo': p.band.lo, 'data-hi': p.band.hi, x: left, y: yHi, width: right - left, height: yLo - yHi, fill, 'fill-opacity': 0.1 }));
    out.push(text(right - 4, yHi + 12, p.band.label, { class: 'band-label', 'text-anchor': 'end', fill: MUTED, 'font-size': 10 }));
  }
  for (const t of ticks(yDomain[0], yDomain[1], 4)) {
    const y = sy(t);
    out.push(el('line', { x1: left, x2: right, y1: y, y2: y, stroke: GRID }));
    out.push(text(left - 6, y + 4, fmtTick(t), { class: 'tick', 'text-anchor': 'end', fill: INK }));
  }
  for (const t of ticks(f.xDomain[0], f.xDomain[1], 5)) {
    const x = sx(t);
    out.push(el('line', { x1: x, x2: x, y1: bottom, y2: bottom + 4, stroke: INK }));
    out.push(text(x, bottom + 16, fmtTick(t), { class: 'tick', 'text-anchor': 'middle', fill: INK }));
  }
  out.push(el('rect', { class: 'plot', x: left, y: top, width: right - left, height: bottom - top, fill: 'none', stroke: INK, 'data-x-domain': `${f.xDomain[0]} ${f.xDomain[1]}`, 'data-y-domain': `${yDomain[0]} ${yDomain[1]}` }));
  out.push(text((left + right) / 2, PANEL_HEIGHT - 6, f.xLabel, { class: 'axis-label', 'text-anchor': 'middle', fill: MUTED }));
  const yLabel = p.series.length === 1 ? p.series[0]!.name : 'value';
  out.push(text(0, 0, clip(yLabel, 24), { class: 'axis-label', 'text-anchor': 'middle', fill: MUTED, transform: `translate(12 ${(top + bottom) / 2}) rotate(-90)` }));

  // Legend rows 30 px apart, closer when more lines than that fit beside the plot.
  const legendGap = Math.min(30, (bottom - top) / Math.max(1, p.series.length));
  p.series.forEach((s, i) => {
    const { stroke, dash } = lineStyle(i);
    const pts = s.points.map(([x, v]) => [sx(x), sy(v)] as const);
    out.push(el('polyline', { class: 'series', 'data-name': s.name, points: points(pts), fill: 'none', stroke, 'stroke-width': 1.8, 'stroke-dasharray': dash, 'stroke-linejoin': 'round' }));
    if (pts.length <= MARKERS_UP_TO) out.push(el('g', { class: 'markers', fill: stroke }, ...pts.map(([x, y]) => el('circle', { cx: x, cy: y, r: 2.2 }))));
    const ly = top + 8 + i * legendGap;
    const lx = right + 12;
    out.push(el('g', { class: 'legend-entry' },
      el('line', { x1: lx, x2: lx + 20, y1: ly, y2: ly, stroke, 'stroke-width': 2, 'stroke-dasharray': dash }),
      text(lx + 26, ly + 4, clip(s.name, LEGEND_CHARS), { fill: INK }),
      text(lx + 26, ly + 17, `last ${fmtValue(s.points.at(-1)![1])}`, { fill: MUTED, 'font-size': 10 }),
      ...(s.name.length > LEGEND_CHARS ? [el('title', {}, esc(s.name))] : [])));
  });
  return el('g', { class: 'panel', 'data-group': p.group, transform: `translate(${f.x} ${f.y})` }, ...out);
}
