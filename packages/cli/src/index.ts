export { ControllerClient } from './client.ts';
export { localNice, runLocal, runLocalExperiment, type LocalOptions, type LocalResult } from './local.ts';
export { main } from './main.ts';
export { renderReport, writeReport, type ReportRecord } from './report/index.ts';
