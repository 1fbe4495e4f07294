// Lands a simulated firm's records straight into the raw.* tables, as `dpm ingest` would store them
// (the same fast-path encoder, zod schemas and CSV encoding, then COPY), without the HTTP round trip. The model
// tests and bench/build.ts measure and check the models, not the ingest; the ingest has its own tests.
import type { Firm } from '../../sim/firm.ts';
import type { Database } from '../../runner/db/connect.ts';
import { migrateLatest } from '../../migrations/migrate.ts';
import { endpointByName, type EndpointSpec } from '../../ingest/endpoints.ts';
import { csvLine } from '../../ingest/landing.ts';

/** The sources the models read (hourly metrics and the accounts listing are not used by any model). */
export const MODEL_SOURCES = ['metrics alltime', 'regimes', 'metrics daily', 'trades closed', 'trades open'];

async function copyRecords(db: Database, spec: EndpointSpec, records: object[]): Promise<number> {
  if (records.length === 0) return 0;
  const known = new Set(spec.fields.map((f) => f.api));
  const columns = [...spec.fields.map((f) => f.column), 'extra'];
  const lines: string[] = [];
  const out = { key: '', line: '' };
  for (const raw of records) {
    // The ingest's fast-path encoder writes the same line as zod + csvLine (tests/ingest/encoder.test.ts).
    if (spec.encode(raw, out)) {
      lines.push(out.line);
      continue;
    }
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success)
      throw new Error(`${spec.name}: firm record fails the ingest schema: ${parsed.error.issues[0].message}`);
    lines.push(csvLine(spec, parsed.data as Record<string, unknown>, known));
  }
  // Chunks keep each COPY's text well below V8's string limit on big firms.
  for (let i = 0; i < lines.length; i += 50_000)
    await db.copyCsv(spec.table, columns, lines.slice(i, i + 50_000).join(''));
  return records.length;
}

/**
 * Migrates, then lands days [fromDay, toDay] (day indexes of the firm) of every dated source; the all-time
 * metrics (accounts) are landed when `alltime` is true. Returns rows landed per source.
 */
export async function landFirm(
  db: Database,
  firm: Firm,
  fromDay: number,
  toDay: number,
  alltime = fromDay === 0,
): Promise<Record<string, number>> {
  await migrateLatest(db.knex);
  const counts: Record<string, number> = {};
  for (const name of MODEL_SOURCES) {
    const spec = endpointByName(name)!;
    counts[name] = 0;
    if (name === 'metrics alltime') {
      if (alltime) {
        counts[name] += await copyRecords(db, spec, firm.alltimeMetrics());
        // As dpm ingest does: without statistics the planner takes the accounts for a few rows and joins
        // every trade to them in a nested loop.
        await db.knex.raw(`analyze ${spec.table}`);
      }
      continue;
    }
    for (let d = fromDay; d <= toDay; d++) {
      const records =
        name === 'regimes'
          ? firm.regimes(d)
          : name === 'metrics daily'
            ? firm.dailyMetrics(d)
            : name === 'trades closed'
              ? firm.closedTrades(d)
              : firm.openTrades(d);
      counts[name] += await copyRecords(db, spec, records);
    }
    await db.knex.raw(`analyze ${spec.table}`);
  }
  return counts;
}
