// The report's entry points: gather from the database, render to HTML, write target/report/index.html.
import { join, resolve } from 'node:path';
import type { Knex } from 'knex';
import { writeArtifact } from '../../runner/artifacts/artifacts.ts';
import { gatherReport, type GatherOptions } from './gather.ts';
import { renderReport } from './render.ts';
import type { ReportData } from './types.ts';

export { gatherReport, type GatherOptions } from './gather.ts';
export { renderReport } from './render.ts';
export type * from './types.ts';

/** Renders already-gathered data into `<dir>/index.html` (atomically); returns the absolute path. */
export function writeReportData(data: ReportData, dir: string): string {
  const path = resolve(join(dir, 'index.html'));
  writeArtifact(path, renderReport(data));
  return path;
}

/** Gathers, renders and writes `<dir>/index.html`; returns the file's absolute path. */
export async function writeReport(knex: Knex, dir: string, options: GatherOptions = {}): Promise<string> {
  return writeReportData(await gatherReport(knex, options), dir);
}
