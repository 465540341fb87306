import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ExperimentRecord } from '@spar/core';
import { main } from '../src/main.ts';
import { COLOURS } from '../src/report/palette.ts';
import { fmtTick, linear, niceDomain, ticks } from '../src/report/scale.ts';
import { asReportRecord, curves, LEAGUE_EXPLOITABILITY_TITLE, RATINGS, RATINGS_TITLE, renderReport, type ReportEvaluation, type ReportGate, type ReportRecord } from '../src/report/index.ts';
import { allText, descendants, parseXml, type XmlElement } from './xml.ts';

const ODD = 'kuhn <&> "odd"';
const WARM = 300;

/** Warm start: 4 evaluations at steps 0..300; self-play: 4 at steps 50..200, with judge stats. */
function record(over: Partial<ReportRecord> = {}): ReportRecord {
  const warm: ReportEvaluation[] = [0, 100, 200, 300].map((step, k) => ({
    step, stage: 'warmstart',
    eval: { 'tictactoe-vs-random': { winRate: 0.2 + 0.1 * k, drawRate: 0.1, lossRate: 0.7 - 0.1 * k, games: 200 }, [ODD]: { exploitability: 0.5 - 0.05 * k } },
  }));
  const self: ReportEvaluation[] = [50, 100, 150, 200].map((step, k) => ({
    step,
    eval: { 'tictactoe-vs-random': { winRate: 0.6 + 0.05 * k, drawRate: 0.2, lossRate: 0.2 - 0.05 * k, games: 200 }, [ODD]: { exploitability: 0.3 - 0.05 * k } },
    judgeStats: { pseudoLabelAccuracy: 0.5 + 0.1 * k, trueAccuracy: 0.4 + 0.1 * k },
  }));
  return {
    id: 'exp-1', config: { recipe: 'spiral-games', name: 'tictactoe' }, state: 'completed', step: 200, policyVersion: 200,
    warmStart: { from: 'runs/sft/export', state: 'done', step: WARM, steps: WARM },
    evaluations: [...warm, ...self], ...over,
  };
}

const byClass = (root: XmlElement, cls: string) => descendants(root).filter((e) => e.attrs.class === cls);
const one = (root: XmlElement, cls: string) => {
  const found = byClass(root, cls);
  assert.equal(found.length, 1, `one .${cls}`);
  return found[0]!;
};
const pointsOf = (pl: XmlElement) => pl.attrs.points!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
/** Maps a step on the panel's x axis to its SVG x, from the plot frame and its recorded domain. */
function xScale(plot: XmlElement): (v: number) => number {
  const [d0, d1] = plot.attrs['data-x-domain']!.split(' ').map(Number) as [number, number];
  const x = Number(plot.attrs.x), w = Number(plot.attrs.width);
  return (v) => x + ((v - d0) / (d1 - d0)) * w;
}
const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 0.011, `${what}: ${a} vs ${b}`);

test('the well-formedness check fails on malformed XML', () => {
  for (const bad of ['<a><b></a>', '<a>&</a>', '<a x=1/>', '<a x="1" x="2"/>', '<a/><b/>', '<a>x < y</a>', '<a>']) {
    assert.throws(() => parseXml(bad), Error, bad);
  }
  assert.equal(allText(parseXml('<?xml version="1.0"?><a t="&lt;&amp;&gt;">&#60;<b>&quot;</b></a>')), '<"');
});

test('report: one panel per suite plus judge stats, warm start shaded first, self-play after it', () => {
  const svg = renderReport(record());
  const root = parseXml(svg);
  assert.equal(root.name, 'svg');
  const panels = byClass(root, 'panel');
  assert.deepEqual(panels.map((p) => p.attrs['data-group']), ['tictactoe-vs-random', ODD, 'judge stats']);
  for (const p of panels) {
    const plot = one(p, 'plot');
    const sx = xScale(plot);
    assert.equal(plot.attrs['data-x-domain'], `0 ${WARM + 200}`);
    const shade = one(p, 'warmstart');
    near(Number(shade.attrs.x), sx(0), 'shade starts at step 0');
    near(Number(shade.attrs.x) + Number(shade.attrs.width), sx(WARM), 'shade ends at the last warm-start step');
    assert.ok(byClass(p, 'axis-label').some((t) => t.text === 'step (warm start shaded)'));
    const lines = byClass(p, 'series');
    assert.ok(lines.length >= 1 && lines.length <= 4);
    for (const pl of lines) {
      assert.ok(COLOURS.includes(pl.attrs.stroke as (typeof COLOURS)[number]), `palette colour ${pl.attrs.stroke}`);
      const pts = pointsOf(pl);
      const judge = p.attrs['data-group'] === 'judge stats';
      assert.equal(pts.length, judge ? 4 : 8, `${pl.attrs['data-name']}: one point per evaluation carrying it`);
      const xs = judge ? [50, 100, 150, 200].map((s) => WARM + s) : [0, 100, 200, 300, WARM + 50, WARM + 100, WARM + 150, WARM + 200];
      pts.forEach(([x], k) => near(x, sx(xs[k]!), `${pl.attrs['data-name']} point ${k}`));
    }
  }
  const [ttt, odd, judge] = panels as [XmlElement, XmlElement, XmlElement];
  assert.deepEqual(byClass(ttt, 'series').map((l) => l.attrs['data-name']), ['winRate', 'drawRate', 'lossRate']);
  assert.equal(one(ttt, 'panel-note').text, 'games 200', 'a constant count is named, not plotted');
  assert.equal(one(ttt, 'plot').attrs['data-y-domain'], '0 1');
  assert.deepEqual(byClass(odd, 'series').map((l) => l.attrs['data-name']), ['exploitability']);
  assert.deepEqual(byClass(judge, 'series').map((l) => l.attrs['data-name']), ['pseudoLabelAccuracy', 'trueAccuracy']);
  // Last value of winRate (0.75) at y on the [0,1] scale.
  const plot = one(ttt, 'plot');
  const lastY = pointsOf(byClass(ttt, 'series')[0]!).at(-1)![1];
  near(lastY, Number(plot.attrs.y) + Number(plot.attrs.height) * (1 - 0.75), 'winRate last y');
  // Title: id, recipe, final state.
  assert.equal(one(root, 'title').text, 'spar · exp-1');
  const sub = byClass(root, 'subtitle').map((t) => t.text).join('\n');
  assert.match(sub, /recipe spiral-games/);
  assert.match(sub, /final state completed/);
  assert.match(sub, /warm start from runs\/sft\/export: 300\/300 steps, done/);
});

/** An absolute-zero record: warm start, then self-play windows with solver and curriculum stats. */
function azrRecord(judge: (k: number) => Record<string, number>): ReportRecord {
  const evals: ReportEvaluation[] = [
    { step: 0, stage: 'warmstart', eval: { 'dsl-deduction': { accuracy: 0.1, count: 67 } } },
    { step: 50, stage: 'warmstart', eval: { 'dsl-deduction': { accuracy: 0.3, count: 67 } } },
    ...[100, 200, 300].map((step, k) => ({ step, eval: { 'dsl-deduction': { accuracy: 0.3 + 0.01 * k, count: 67 } }, judgeStats: judge(k) })),
  ];
  return { id: 'azr-1', config: { recipe: 'absolute-zero' }, state: 'completed', step: 300, warmStart: { from: 'sft', state: 'done', step: 50 }, evaluations: evals };
}
const AZR_STATS = (k: number) => ({
  solveRate: 0.5, formatErrorRate: 0.1 - 0.02 * k, ownSolveRate: 0.9 - 0.2 * k, learnability: 0.1 + 0.1 * k, replaySolveRate: 0.6,
  proposerNonZeroAdvantage: 0.2 + 0.1 * k, invalidProposal: 0.3 - 0.1 * k, copyProposal: 0.05, distinctPer1000: 400 + 100 * k,
});

test('report: curriculum stats get a group of their own, the own-task solve-rate band shaded on their [0,1] panel', () => {
  const root = parseXml(renderReport(azrRecord(AZR_STATS)));
  const panels = byClass(root, 'panel');
  assert.deepEqual(panels.map((p) => p.attrs['data-group']), ['dsl-deduction', 'judge stats', 'curriculum', 'curriculum']);
  const [, judge, rates, novelty] = panels as [XmlElement, XmlElement, XmlElement, XmlElement];
  assert.deepEqual(byClass(judge, 'series').map((l) => l.attrs['data-name']), ['solveRate', 'formatErrorRate'], 'other judge stats stay where they were');
  assert.equal(one(rates, 'panel-title').text, 'curriculum');
  assert.deepEqual(byClass(rates, 'series').map((l) => l.attrs['data-name']),
    ['ownSolveRate', 'learnability', 'replaySolveRate', 'proposerNonZeroAdvantage', 'invalidProposal', 'copyProposal'], 'all six rates on one panel');
  const plot = one(rates, 'plot');
  assert.equal(plot.attrs['data-y-domain'], '0 1');
  // The band spans 0.25..0.75 on the [0,1] axis, across the plot, in ownSolveRate's colour.
  const band = one(rates, 'target-band');
  const y = (v: number) => Number(plot.attrs.y) + Number(plot.attrs.height) * (1 - v);
  near(Number(band.attrs.y), y(0.75), 'band top at 0.75');
  near(Number(band.attrs.y) + Number(band.attrs.height), y(0.25), 'band bottom at 0.25');
  near(Number(band.attrs.x), Number(plot.attrs.x), 'band starts at the plot');
  near(Number(band.attrs.width), Number(plot.attrs.width), 'band spans the plot');
  assert.equal(band.attrs.fill, byClass(rates, 'series')[0]!.attrs.stroke);
  assert.equal(one(rates, 'band-label').text, 'own-task solve-rate target band');
  // Six legend entries still fit beside the plot.
  const legendYs = byClass(rates, 'legend-entry').map((g) => Number(g.children[0]!.attrs.y1));
  assert.equal(legendYs.length, 6);
  assert.ok(legendYs.at(-1)! + 17 <= Number(plot.attrs.y) + Number(plot.attrs.height), `last legend entry at ${legendYs.at(-1)} inside the plot's height`);
  // distinctPer1000 on a panel of its own, on its own axis.
  assert.equal(one(novelty, 'panel-title').text, 'curriculum · distinctPer1000');
  assert.deepEqual(byClass(novelty, 'series').map((l) => l.attrs['data-name']), ['distinctPer1000']);
  const [lo, hi] = one(novelty, 'plot').attrs['data-y-domain']!.split(' ').map(Number) as [number, number];
  assert.ok(lo <= 400 && hi >= 600, `distinctPer1000 axis ${lo}..${hi}`);
  assert.equal(byClass(novelty, 'target-band').length, 0);
  assert.equal(byClass(judge, 'target-band').length, 0);
});

test('report: a constant distinctPer1000 still gets its panel; without ownSolveRate no band', () => {
  const c = curves(azrRecord(() => ({ solveRate: 0.5, proposerNonZeroAdvantage: 0.4, distinctPer1000: 1000 })));
  assert.deepEqual(c.panels.map((p) => [p.title, p.series.map((s) => s.name), p.band?.label]),
    [['dsl-deduction', ['accuracy'], undefined], ['judge stats', ['solveRate'], undefined],
      ['curriculum', ['proposerNonZeroAdvantage'], undefined], ['curriculum · distinctPer1000', ['distinctPer1000'], undefined]]);
  const root = parseXml(renderReport(azrRecord(() => ({ solveRate: 0.5, proposerNonZeroAdvantage: 0.4 }))));
  assert.equal(byClass(root, 'target-band').length, 0);
  assert.equal(byClass(root, 'band-label').length, 0);
});

test('report: records without curriculum stats render as before (no curriculum group, no band)', () => {
  const root = parseXml(renderReport(record()));
  assert.ok(!byClass(root, 'panel').some((p) => p.attrs['data-group'] === 'curriculum'));
  assert.equal(byClass(root, 'target-band').length, 0);
  const rlvr = curves(azrRecord(() => ({ solveRate: 0.5, formatErrorRate: 0.1 })));
  assert.deepEqual(rlvr.panels.map((p) => p.group), ['dsl-deduction', 'judge stats']);
  assert.ok(rlvr.panels.every((p) => p.band === undefined));
  // The legend of a panel with up to five lines keeps its 30 px rows.
  const ttt = byClass(root, 'panel')[0]!;
  const ys = byClass(ttt, 'legend-entry').map((g) => Number(g.children[0]!.attrs.y1));
  assert.deepEqual(ys.map((v) => v - ys[0]!), [0, 30, 60]);
});

test('report: text is escaped', () => {
  const svg = renderReport(record({ id: 'a<b>&c', reason: `it's "done" & <gone>` }));
  assert.ok(svg.includes('kuhn &lt;&amp;&gt; &quot;odd&quot;'));
  assert.ok(!svg.includes(ODD));
  const root = parseXml(svg);
  assert.equal(one(root, 'title').text, 'spar · a<b>&c');
  assert.ok(byClass(root, 'panel-title').some((t) => t.text === ODD));
  assert.match(byClass(root, 'subtitle')[0]!.text, /it's "done" & <gone>/);
  // Characters XML cannot hold at all are dropped, not written.
  assert.doesNotThrow(() => parseXml(renderReport(record({ id: 'bell\u0007' }))));
});

test('report: self-play alone without warm-start entries', () => {
  const rec = record();
  const self = rec.evaluations!.filter((e) => e.stage === undefined);
  const root = parseXml(renderReport({ ...rec, warmStart: undefined, evaluations: self }));
  assert.equal(byClass(root, 'warmstart').length, 0);
  const p = byClass(root, 'panel')[0]!;
  assert.ok(byClass(p, 'axis-label').some((t) => t.text === 'step'));
  const sx = xScale(one(p, 'plot'));
  pointsOf(byClass(p, 'series')[0]!).forEach(([x], k) => near(x, sx(50 * (k + 1)), `self-play point ${k}`));
});

test('report: a record with no evaluations is a clear error', () => {
  assert.throws(() => renderReport(record({ evaluations: [] })), /experiment exp-1 has no evaluations yet \(state completed, step 200\): nothing to plot/);
  assert.throws(() => renderReport(record({ evaluations: undefined })), /no evaluations yet/);
});

/** League gates at self-play steps 50..250 (the last one past the last evaluation, at 200). */
const GATES: ReportGate[] = [
  { step: 50, rating: 40, bestRating: 40 },
  { step: 100, rating: 120, bestRating: 120 },
  { step: 150, rating: 90, bestRating: 120 },
  { step: 250, rating: 180, bestRating: 180 },
];

test('report: league gates get a ratings panel after the evaluation panels: best and snapshot Elo at x = warm start + step', () => {
  const rec = record({ league: { gates: GATES } });
  const c = curves(rec);
  assert.deepEqual(c.panels.map((p) => p.group), ['tictactoe-vs-random', ODD, 'judge stats', RATINGS]);
  const ratings = c.panels.at(-1)!;
  assert.equal(ratings.title, RATINGS_TITLE);
  assert.equal(ratings.title, 'ratings · Elo');
  assert.equal(ratings.unit, false);
  assert.deepEqual(ratings.series.map((s) => [s.name, s.points]), [
    ['best', GATES.map((g) => [WARM + g.step, g.bestRating])],
    ['snapshot', GATES.map((g) => [WARM + g.step, g.rating])],
  ]);
  assert.equal(c.xMax, WARM + 250, 'the x axis reaches the last gate');
  assert.equal(c.gates, 4);

  const root = parseXml(renderReport(rec));
  const panels = byClass(root, 'panel');
  assert.deepEqual(panels.map((p) => p.attrs['data-group']), ['tictactoe-vs-random', ODD, 'judge stats', RATINGS]);
  const p = panels.at(-1)!;
  assert.equal(one(p, 'panel-title').text, 'ratings · Elo');
  const plot = one(p, 'plot');
  assert.equal(plot.attrs['data-x-domain'], `0 ${WARM + 250}`);
  const [lo, hi] = plot.attrs['data-y-domain']!.split(' ').map(Number) as [number, number];
  assert.ok(lo <= 40 && hi >= 180 && !(lo === 0 && hi === 1), `Elo axis ${lo}..${hi}`);
  const sx = xScale(plot);
  const sy = (v: number) => Number(plot.attrs.y) + Number(plot.attrs.height) * (1 - (v - lo) / (hi - lo));
  const lines = byClass(p, 'series');
  assert.deepEqual(lines.map((l) => l.attrs['data-name']), ['best', 'snapshot']);
  lines.forEach((l, k) => pointsOf(l).forEach(([x, y], i) => {
    near(x, sx(WARM + GATES[i]!.step), `${l.attrs['data-name']} point ${i} x`);
    near(y, sy(k === 0 ? GATES[i]!.bestRating : GATES[i]!.rating), `${l.attrs['data-name']} point ${i} y`);
  }));
  one(p, 'warmstart');
  assert.match(byClass(root, 'subtitle')[0]!.text, /8 evaluations · 4 league gates/);
  // Without gates (or with an empty list): no ratings panel, as before.
  assert.ok(!curves(record({ league: { gates: [] } })).panels.some((x) => x.group === RATINGS));
  assert.ok(!curves(record()).panels.some((x) => x.group === RATINGS));
});

test('report: gates by exploitability add a panel of the best\'s and the snapshot\'s exploitability after the Elo panel', () => {
  const gates: ReportGate[] = GATES.map((g, i) => ({ ...g, exploitability: [0.2, 0.05, 0.08, 0.03][i]!, bestExploitability: [0.2, 0.05, 0.05, 0.03][i]! }));
  const c = curves(record({ league: { gates } }));
  assert.deepEqual(c.panels.slice(-2).map((p) => p.title), [RATINGS_TITLE, LEAGUE_EXPLOITABILITY_TITLE]);
  const panel = c.panels.at(-1)!;
  assert.equal(panel.group, RATINGS);
  assert.deepEqual(panel.series.map((s) => [s.name, s.points]), [
    ['best', gates.map((g) => [WARM + g.step, g.bestExploitability])],
    ['snapshot', gates.map((g) => [WARM + g.step, g.exploitability])],
  ]);
  // Gated by match (no exploitability on the gates): the Elo panel only.
  assert.ok(!curves(record({ league: { gates: GATES } })).panels.some((p) => p.title === LEAGUE_EXPLOITABILITY_TITLE));
  const root = parseXml(renderReport(record({ league: { gates } })));
  assert.equal(one(byClass(root, 'panel').at(-1)!, 'panel-title').text, LEAGUE_EXPLOITABILITY_TITLE);
});

test('report: gates without evaluations still plot; nothing at all is still an error', () => {
  const noWarm = { id: 'lg', state: 'running', step: 250, league: { gates: [...GATES].reverse() } } satisfies ReportRecord;
  const c = curves(noWarm);
  assert.deepEqual(c.panels.map((p) => p.title), ['ratings · Elo']);
  assert.deepEqual(c.panels[0]!.series[0]!.points, GATES.map((g) => [g.step, g.bestRating]), 'in step order, x = step without a warm start');
  assert.equal(c.evaluations, 0);
  const root = parseXml(renderReport(noWarm));
  const p = one(root, 'panel');
  assert.equal(p.attrs['data-group'], RATINGS);
  assert.equal(byClass(p, 'warmstart').length, 0);
  const sx = xScale(one(p, 'plot'));
  pointsOf(byClass(p, 'series')[1]!).forEach(([x], i) => near(x, sx(GATES[i]!.step), `snapshot point ${i}`));
  // A record's warm start still shifts the gates.
  const warm = curves({ ...noWarm, warmStart: { from: 'sft', state: 'done', step: 40 } });
  assert.deepEqual(warm.panels[0]!.series[1]!.points, GATES.map((g) => [40 + g.step, g.rating]));
  assert.equal(warm.xMax, 290);
  assert.throws(() => renderReport({ ...noWarm, league: { gates: [] } }), /experiment lg has no evaluations yet \(state running, step 250\): nothing to plot/);
  assert.throws(() => curves({ ...noWarm, league: {} }), /no evaluations yet/);
});

test('report: a malformed league is a clear error', () => {
  const base = { id: 'x', state: 'running', step: 1 };
  assert.throws(() => asReportRecord({ ...base, league: [] }, 'f.json'), /^Error: f\.json: not an experiment record \("league" is not an object\)$/);
  assert.throws(() => asReportRecord({ ...base, league: { gates: {} } }, 'f.json'), /"league\.gates" is not an array/);
  assert.throws(() => asReportRecord({ ...base, league: { gates: [GATES[0], { step: 2, rating: 3 }] } }, 'f.json'),
    /league\.gates\[1\] needs a numeric "step", "rating" and "bestRating"/);
  const ok = { ...base, league: { best: { version: 1, step: 1, rating: 0 }, ratings: [{ player: 'random', anchor: true, rating: 0, games: 0 }], gates: GATES } };
  assert.equal(asReportRecord(ok, 'f.json'), ok, 'the rest of the league is not checked');
  assert.doesNotThrow(() => asReportRecord({ ...base, league: { ratings: [] } }, 'f.json'));
});

test('curves: more than four [0,1] metrics split over panels; other metrics get a panel each', () => {
  const eval1 = { s: { a: 0.1, b: 0.2, c: 0.3, d: 0.4, e: 0.5, reward: -3, games: 10 } };
  const eval2 = { s: { a: 0.2, b: 0.3, c: 0.4, d: 0.5, e: 0.6, reward: 7, games: 10 } };
  const c = curves({ id: 'x', state: 'running', step: 2, evaluations: [{ step: 1, eval: eval1 }, { step: 2, eval: eval2 }] });
  assert.deepEqual(c.panels.map((p) => [p.title, p.series.map((s) => s.name)]), [['s (1/2)', ['a', 'b', 'c', 'd']], ['s (2/2)', ['e']], ['s · reward', ['reward']]]);
  assert.equal(c.panels[0]!.note, 'games 10');
  assert.equal(c.hasWarmStart, false);
  const root = parseXml(renderReport({ id: 'x', state: 'running', step: 2, evaluations: [{ step: 1, eval: eval1 }, { step: 2, eval: eval2 }] }));
  const reward = byClass(root, 'panel')[2]!;
  const [lo, hi] = one(reward, 'plot').attrs['data-y-domain']!.split(' ').map(Number) as [number, number];
  assert.ok(lo <= -3 && hi >= 7 && hi - lo < 20, `reward axis ${lo}..${hi}`);
});

test('an ExperimentRecord is a ReportRecord', () => {
  const asReport = (r: ExperimentRecord): ReportRecord => r; // fails typecheck if the record drifts
  assert.equal(typeof asReport, 'function');
});

const tmp = mkdtempSync(join(tmpdir(), 'spar-report-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('spar report RUN_DIR writes RUN_DIR/report.svg; --out elsewhere', async () => {
  const dir = join(tmp, 'local-run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'record.json'), JSON.stringify(record()));
  assert.equal(await main(['report', dir]), 0);
  assert.equal(byClass(parseXml(readFileSync(join(dir, 'report.svg'), 'utf8')), 'panel').length, 3);
  const out = join(tmp, 'elsewhere.svg');
  assert.equal(await main(['report', join(dir, 'record.json'), '--out', out]), 0);
  assert.ok(existsSync(out));
});

test('spar report: a run dir without record.json, a missing path, a bad record: clear errors', async () => {
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  await assert.rejects(main(['report', empty]), /holds no record\.json/);
  await assert.rejects(main(['report', join(tmp, 'nope')]), /no such run dir or file/);
  writeFileSync(join(empty, 'record.json'), JSON.stringify({ id: 'x', state: 'running', step: 1, evaluations: [] }));
  await assert.rejects(main(['report', empty]), /no evaluations yet/);
  writeFileSync(join(empty, 'record.json'), JSON.stringify({ id: 'x', state: 'running', step: 1, league: { gates: [{ step: 1, rating: 5 }] } }));
  await assert.rejects(main(['report', empty]), /league\.gates\[0\] needs a numeric "step", "rating" and "bestRating"/);
  writeFileSync(join(empty, 'record.json'), '{"id": "x", "step": 1}');
  await assert.rejects(main(['report', empty]), /not an experiment record \(no string "state"\)/);
  assert.equal(existsSync(join(empty, 'report.svg')), false);
});

test('spar report ID fetches the record from --url with the API token and writes report-ID.svg here', async () => {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ...record(), id: 'exp-9' }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const cwd = process.cwd();
  const here = join(tmp, 'cwd');
  mkdirSync(here);
  process.env.SPAR_API_TOKEN = 'tok';
  try {
    process.chdir(here);
    assert.equal(await main(['report', 'exp-9', '--url', `http://127.0.0.1:${(server.address() as AddressInfo).port}`]), 0);
  } finally {
    process.chdir(cwd);
    delete process.env.SPAR_API_TOKEN;
    server.close();
  }
  assert.deepEqual(seen, ['/v1/experiments/exp-9 Bearer tok']);
  assert.ok(existsSync(join(here, 'report-exp-9.svg')));
});

test('scales: nice domains and their ticks line up', () => {
  assert.deepEqual(niceDomain(-0.25, 0.5, 4), [-0.4, 0.6]);
  assert.deepEqual(ticks(-0.4, 0.6, 4), [-0.4, -0.2, 0, 0.2, 0.4, 0.6]);
  assert.deepEqual(ticks(0, 1, 4), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(ticks(0, 1300, 5), [0, 200, 400, 600, 800, 1000, 1200]);
  assert.deepEqual(niceDomain(7, 7), [6.2, 7.8], 'a single value gets room around it');
  const s = linear([0, 500], [54, 298]);
  assert.equal(s(0), 54);
  assert.equal(s(500), 298);
  assert.equal(s(250), 176);
  assert.deepEqual([25000, 0.25, 1200, 0].map(fmtTick), ['25k', '0.25', '1200', '0']);
});
