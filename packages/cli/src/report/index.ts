export { CURRICULUM, CURRICULUM_NOVELTY, CURRICULUM_RATES, curves, JUDGE_STATS, OWN_SOLVE_BAND, LEAGUE_EXPLOITABILITY_TITLE, RATINGS, RATINGS_TITLE, type Band, type Curves, type PanelData, type Series } from './curves.ts';
export { RECORD_FILE, writeReport, type ReportOptions } from './command.ts';
export { asReportRecord, WARM_START_STAGE, type ReportEvaluation, type ReportGate, type ReportLeague, type ReportRecord } from './record.ts';
export { renderReport } from './render.ts';
