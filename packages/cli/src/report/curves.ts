import { fmtValue } from './scale.ts';
import { WARM_START_STAGE, type ReportGate, type ReportRecord } from './record.ts';

/** One line: [x, y] points in ascending x. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

/** What one small-multiple panel shows. */
export interface PanelData {
  /** The suite (or JUDGE_STATS) the panel belongs to. */
  readonly group: string;
  readonly title: string;
  /** Every value in [0, 1]: the y axis is fixed to [0, 1]. */
  readonly unit: boolean;
  readonly series: readonly Series[];
  /** Metrics left off the plot because they never change (e.g. "games 200"). */
  readonly note?: string;
  /** A target range of one series, shaded across the plot (e.g. the own-task solve-rate band). */
  readonly band?: Band;
}

export interface Band {
  /** The series whose target it is (the band takes its colour). */
  readonly series: string;
  readonly lo: number;
  readonly hi: number;
  readonly label: string;
}

export interface Curves {
  readonly panels: readonly PanelData[];
  /** Length of the warm-start stage on the x axis (0: none); self-play step s is at x = warmStartSteps + s. */
  readonly warmStartSteps: number;
  readonly hasWarmStart: boolean;
  /** Largest x of any point. */
  readonly xMax: number;
  readonly evaluations: number;
  /** League gates plotted on the ratings panel (0: none). */
  readonly gates: number;
}

export const JUDGE_STATS = 'judge stats';
export const CURRICULUM = 'curriculum';
/** The league's Elo ratings at each gate: the best's and the gated snapshot's, after every other group. */
export const RATINGS = 'ratings';
export const RATINGS_TITLE = 'ratings · Elo';
export const LEAGUE_EXPLOITABILITY_TITLE = 'ratings · exploitability (gated on it)';
export const MAX_LINES = 4;
/**
 * Judge stats that measure the curriculum (absolute-zero's proposals; proposerNonZeroAdvantage
 * also r-zero's challenger), in legend order: rates, drawn together on one [0, 1] panel.
 */
export const CURRICULUM_RATES = ['ownSolveRate', 'learnability', 'replaySolveRate', 'proposerNonZeroAdvantage', 'invalidProposal', 'copyProposal'] as const;
/** Novelty of recent proposals (0..1000): a panel of its own in the curriculum group. */
export const CURRICULUM_NOVELTY = 'distinctPer1000';
/** The target for absolute-zero's own tasks: the solver solves them sometimes, neither never nor always. */
export const OWN_SOLVE_BAND: Band = { series: 'ownSolveRate', lo: 0.25, hi: 0.75, label: 'own-task solve-rate target band' };
const CURRICULUM_STATS = new Set<string>([...CURRICULUM_RATES, CURRICULUM_NOVELTY]);

type Points = [number, number][];

/**
 * The record's evaluation history as panels: per suite one panel for the metrics whose values
 * all lie in [0, 1] (split after MAX_LINES lines), one panel per other metric, and the same
 * for the judge stats. The curriculum stats among them (CURRICULUM_RATES, CURRICULUM_NOVELTY)
 * form a group of their own after the judge stats: the rates on one [0, 1] panel with the
 * own-task solve-rate band, distinctPer1000 on its own. With league gates (record.league.gates),
 * a last panel, RATINGS_TITLE: the best's rating after each gate (`best`) and the gated snapshot's
 * (`snapshot`). Warm-start evaluations come first on the x axis, self-play (and gates) after them.
 * Throws when there is nothing to plot: no evaluations and no gates.
 */
export function curves(rec: ReportRecord, maxLines = MAX_LINES): Curves {
  const evs = rec.evaluations ?? [];
  const gates = rec.league?.gates ?? [];
  if (evs.length === 0 && gates.length === 0) throw new Error(`experiment ${rec.id} has no evaluations yet (state ${rec.state}, step ${rec.step}): nothing to plot`);
  const warm = evs.filter((e) => e.stage === WARM_START_STAGE);
  const hasWarmStart = warm.length > 0 || rec.warmStart !== undefined;
  const warmStartSteps = Math.max(0, rec.warmStart?.step ?? 0, ...warm.map((e) => e.step));
  const x = (e: (typeof evs)[number]) => (e.stage === WARM_START_STAGE ? e.step : warmStartSteps + e.step);
  const ordered = evs.map((e, i) => ({ e, i, x: x(e) })).sort((a, b) => a.x - b.x || a.i - b.i);

  const suites = new Map<string, Map<string, Points>>();
  const judge = new Map<string, Points>();
  const curriculum = new Map<string, Points>();
  const add = (into: Map<string, Points>, name: string, px: number, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return;
    let pts = into.get(name);
    if (!pts) into.set(name, (pts = []));
    pts.push([px, v]);
  };
  for (const { e, x: px } of ordered) {
    for (const [suite, metrics] of Object.entries(e.eval)) {
      let m = suites.get(suite);
      if (!m) suites.set(suite, (m = new Map()));
      for (const [name, v] of Object.entries(metrics)) add(m, name, px, v);
    }
    for (const [name, v] of Object.entries(e.judgeStats ?? {})) add(CURRICULUM_STATS.has(name) ? curriculum : judge, name, px, v);
  }
  const panels = [...suites].flatMap(([suite, m]) => groupPanels(suite, m, maxLines));
  if (judge.size > 0) panels.push(...groupPanels(JUDGE_STATS, judge, maxLines));
  if (curriculum.size > 0) panels.push(...curriculumPanels(curriculum));
  const ratings = ratingsPanels(gates, warmStartSteps);
  panels.push(...ratings);
  if (panels.length === 0) throw new Error(`experiment ${rec.id}: its ${evs.length} evaluations hold no numeric values: nothing to plot`);
  const xMax = Math.max(warmStartSteps, ...ordered.map((o) => o.x), ...ratings.flatMap((p) => p.series.flatMap((s) => s.points.map(([px]) => px))));
  return { panels, warmStartSteps, hasWarmStart, xMax, evaluations: evs.length, gates: gates.length };
}

/**
 * The league's gates in step order: `best` (its rating after each gate) and `snapshot` (the gated
 * one's), x = warmStartSteps + step; with gating by exploitability, a second panel of the best's
 * and the snapshot's exploitability.
 */
function ratingsPanels(gates: readonly ReportGate[], warmStartSteps: number): PanelData[] {
  const ordered = gates.map((g, i) => ({ g, i })).sort((a, b) => a.g.step - b.g.step || a.i - b.i).map(({ g }) => g);
  const line = (name: string, of: (g: ReportGate) => number | undefined): Series => ({
    name, points: ordered.flatMap((g): Points => { const v = of(g); return Number.isFinite(g.step) && typeof v === 'number' && Number.isFinite(v) ? [[warmStartSteps + g.step, v]] : []; }),
  });
  const panels: PanelData[] = [];
  const elo = [line('best', (g) => g.bestRating), line('snapshot', (g) => g.rating)].filter((s) => s.points.length > 0);
  if (elo.length) panels.push({ group: RATINGS, title: RATINGS_TITLE, unit: false, series: elo });
  const expl = [line('best', (g) => g.bestExploitability), line('snapshot', (g) => g.exploitability)].filter((s) => s.points.length > 0);
  if (expl.length) panels.push({ group: RATINGS, title: LEAGUE_EXPLOITABILITY_TITLE, unit: false, series: expl });
  return panels;
}

function groupPanels(group: string, metrics: Map<string, Points>, maxLines: number): PanelData[] {
  const all = [...metrics].filter(([, pts]) => pts.length > 0).map(([name, points]) => ({ name, points }));
  const unit = all.filter((s) => s.points.every(([, v]) => v >= 0 && v <= 1));
  const other = all.filter((s) => !unit.includes(s));
  const constant = (s: Series) => s.points.every(([, v]) => v === s.points[0]![1]);
  // A metric outside [0, 1] that never changes (a sample size) is named, not plotted, when the
  // group has something else to plot.
  const flat = unit.length > 0 || other.some((s) => !constant(s)) ? other.filter(constant) : [];
  const note = flat.map((s) => `${s.name} ${fmtValue(s.points[0]![1])}`).join(', ') || undefined;
  const panels: PanelData[] = [];
  const chunks = Math.ceil(unit.length / maxLines);
  for (let c = 0; c < chunks; c++) {
    panels.push({ group, title: chunks > 1 ? `${group} (${c + 1}/${chunks})` : group, unit: true, series: unit.slice(c * maxLines, (c + 1) * maxLines) });
  }
  for (const s of other) if (!flat.includes(s)) panels.push({ group, title: `${group} · ${s.name}`, unit: false, series: [s] });
  if (note && panels[0]) panels[0] = { ...panels[0], note };
  return panels;
}

/**
 * The curriculum group: the rates in CURRICULUM_RATES order on one [0, 1] panel (all of them,
 * past MAX_LINES: they are read together), the band when ownSolveRate is there; distinctPer1000,
 * and any rate outside [0, 1], on a panel each, even when constant.
 */
function curriculumPanels(stats: Map<string, Points>): PanelData[] {
  const inUnit = (pts: Points) => pts.every(([, v]) => v >= 0 && v <= 1);
  const rates: Series[] = [];
  const own: Series[] = [];
  for (const name of CURRICULUM_RATES) {
    const points = stats.get(name);
    if (points?.length) (inUnit(points) ? rates : own).push({ name, points });
  }
  const novelty = stats.get(CURRICULUM_NOVELTY);
  if (novelty?.length) own.push({ name: CURRICULUM_NOVELTY, points: novelty });
  const panels: PanelData[] = [];
  if (rates.length) {
    const band = rates.some((s) => s.name === OWN_SOLVE_BAND.series) ? { band: OWN_SOLVE_BAND } : {};
    panels.push({ group: CURRICULUM, title: CURRICULUM, unit: true, series: rates, ...band });
  }
  for (const s of own) panels.push({ group: CURRICULUM, title: `${CURRICULUM} · ${s.name}`, unit: false, series: [s] });
  return panels;
}
