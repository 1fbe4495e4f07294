// `dpm ingest regimes --from-file`: an export of the regimes source table, as JSON Lines (one row per line,
// JSON columns as objects, what `dpm sim export-regimes --out` writes) or as CSV with a header row (what
// `psql -c "\copy (select ...) to file.csv csv header"` writes: JSON columns as JSON text, NULL as an
// unquoted empty field). The file is read twice, streaming: once to find the latest valid copy of each
// day, once to land it (older copies count as duplicates, bad lines go to raw.rejected_records as file:line).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import type { Database } from '../runner/db/connect.ts';
import type { Logger } from '../runner/log.ts';
import type { EndpointSpec } from './endpoints.ts';
import type { IngestOptions } from './ingest.ts';
import { Progress } from './progress.ts';
import { latestFirst, regimeFromJson, regimeFromText, type RegimesSource } from './regimes.ts';
import { runWindow, type ListingSummary } from './window.ts';

type FileSource = Extract<RegimesSource, { kind: 'file' }>;

interface Line {
  line: number;
  /** What the file holds, for raw.rejected_records. */
  payload: unknown;
  record?: Record<string, unknown>;
  error?: string;
}

async function* jsonLines(path: string, spec: EndpointSpec): AsyncGenerator<Line> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  for await (let text of lines) {
    line++;
    if (line === 1) text = text.replace(/^\uFEFF/, '');
    if (!text.trim()) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      yield { line, payload: text, error: `record: not valid JSON (${(err as Error).message})` };
      continue;
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj))
      yield { line, payload: obj, error: 'record: not a JSON object' };
    else yield { line, payload: obj, record: regimeFromJson(obj as Record<string, unknown>, spec.fields) };
  }
}

async function* csvRows(path: string, spec: EndpointSpec): AsyncGenerator<Line> {
  // An unquoted empty field is NULL and a quoted one '', as COPY ... csv writes them.
  const parser = createReadStream(path).pipe(
    parse({
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      cast: (v, ctx) => (v === '' && !ctx.quoting ? null : v),
    }),
  );
  let header: string[] | undefined;
  for await (const { record, info } of parser as AsyncIterable<{
    record: (string | null)[];
    info: { lines: number };
  }>) {
    if (!header) {
      header = record.map((h) => h ?? '');
      const wanted = spec.fields.map((f) => f.column);
      const missing = wanted.filter((c) => !header!.includes(c));
      if (missing.length)
        throw new Error(
          `the header of ${path} has no column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; ` +
            `dpm reads ${wanted.join(', ')} ` +
            "(export them with psql: \\copy (select * from public.regimes_daily) to 'regimes.csv' csv header)",
        );
      continue;
    }
    const line = info.lines;
    const row = Object.fromEntries(header.map((h, i) => [h, record[i]]));
    if (record.length !== header.length) {
      yield { line, payload: record, error: `record: ${record.length} fields where the header has ${header.length}` };
      continue;
    }
    const conv = regimeFromText(row, spec.fields);
    yield 'error' in conv ? { line, payload: row, error: conv.error } : { line, payload: row, record: conv.record };
  }
}

export async function ingestRegimesFromFile(
  db: Database,
  spec: EndpointSpec,
  source: FileSource,
  options: IngestOptions,
  log: Logger,
): Promise<ListingSummary[]> {
  const { startDate: start, endDate: end } = options;
  const lines = () => (source.format === 'csv' ? csvRows(source.path, spec) : jsonLines(source.path, spec));
  const inWindow = (date: string) => (!start || date >= start) && (!end || date <= end);
  const range = start || end ? `${start ?? 'first day'}..${end ?? 'last day'}` : 'every day';
  log.info(
    `regimes from file ${source.path} (${source.format === 'csv' ? 'CSV with a header row' : 'JSON Lines'}), ${range}`,
  );
  const key = `file:${source.path}`;
  const progress = new Progress(spec.name, log);
  let outside = 0;
  const summary = await runWindow(
    db,
    spec,
    { key, windowed: false, resumable: false },
    options,
    log,
    progress,
    async (load) => {
      // First pass: the line of the latest valid copy of each day.
      const winners = new Map<string, { line: number; record: Record<string, unknown> }>();
      for await (const l of lines()) {
        const v = l.record && load.validate(l.record);
        if (!v?.ok) continue;
        const date = String(v.record.date);
        const best = winners.get(date);
        if (inWindow(date) && (!best || latestFirst(v.record, best.record) < 0))
          winners.set(date, { line: l.line, record: v.record });
      }
      progress.start(key, undefined);
      let n = 0;
      let last = 0;
      for await (const l of lines()) {
        const id = `${source.path}:${l.line}`;
        const v = l.record ? load.validate(l.record) : undefined;
        if (!l.record || !v) load.reject(l.payload, l.line, id, l.error ?? 'record: unreadable');
        else if (!v.ok) load.reject(l.payload, l.line, id, v.error);
        else if (!inWindow(String(v.record.date))) outside++;
        else if (winners.get(String(v.record.date))?.line === l.line) load.offer(l.record, l.line, id);
        else load.duplicate();
        last = l.line;
        if (++n % 1000 === 0) {
          progress.advance(1000);
          await load.page(last, false);
        }
      }
      await load.page(last, true);
    },
    { showRejections: true },
  );
  if (outside) log.info(`regimes ${key}: ${outside} line(s) dated outside ${range} were left out of the window`);
  return [summary];
}
