import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { asReportRecord, type ReportRecord } from './record.ts';
import { renderReport } from './render.ts';

/** The file local mode writes at the end of a run, in its run dir. */
export const RECORD_FILE = 'record.json';

export interface ReportOptions {
  /** An experiment id (fetched from the controller), a run dir holding record.json, or a record file. */
  readonly target: string;
  readonly out?: string;
  /** Fetches a record by id (the controller client's get). */
  readonly fetch: (id: string) => Promise<ReportRecord>;
}

const looksLikePath = (s: string) => s.includes('/') || s.includes(sep) || s.startsWith('.') || s.endsWith('.json');

/** Reads the record, renders it and writes the SVG; returns the file written. */
export async function writeReport(o: ReportOptions): Promise<string> {
  let rec: ReportRecord;
  let out: string;
  if (existsSync(o.target)) {
    const file = statSync(o.target).isDirectory() ? join(o.target, RECORD_FILE) : o.target;
    if (!existsSync(file)) throw new Error(`${o.target} holds no ${RECORD_FILE} (local mode writes it when a run ends; for a running experiment pass its id)`);
    let json: unknown;
    try { json = JSON.parse(readFileSync(file, 'utf8')); } catch (err) { throw new Error(`${file}: ${(err as Error).message}`); }
    rec = asReportRecord(json, file);
    out = o.out ?? join(dirname(file), 'report.svg');
  } else {
    if (looksLikePath(o.target)) throw new Error(`${o.target}: no such run dir or file`);
    rec = asReportRecord(await o.fetch(o.target), `experiment ${o.target}`);
    out = o.out ?? `report-${rec.id.replace(/[^A-Za-z0-9._-]/g, '_')}.svg`;
  }
  const svg = renderReport(rec);
  out = resolve(out);
  writeFileSync(out, svg);
  return out;
}
