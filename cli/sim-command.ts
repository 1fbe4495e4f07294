// `dpm sim serve`, `dpm sim export` and `dpm sim export-regimes`: run the simulated Risk Analytics API, write
// its records as JSONL, or write its regimes where the regimes source database keeps them.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { z } from 'zod';
import { generateFirm, DEFAULT_START_DATE, type Firm } from '../sim/firm.ts';
import { startSimServer } from '../sim/server.ts';
import { FaultsSchema } from '../sim/faults.ts';
import { closedTradeJson, openTradeJson } from '../sim/json.ts';
import { regimeRecords, writeRegimesTable } from '../sim/regimes-export.ts';
import { redact, registerSecret } from '../runner/db/redact.ts';
import { passwordOf } from '../runner/db/target.ts';
import { describePgUrl } from '../ingest/regimes.ts';

/** The demo firm: about 150-190 funded accounts trade on a typical weekday. */
export const DEFAULT_FIRM = { seed: 1, accounts: 250, days: 120, startDate: DEFAULT_START_DATE } as const;

const HELP = `dpm sim <serve|export|export-regimes> [options]

  serve           run the simulated Risk Analytics API on 127.0.0.1 until interrupted
  export          write every record type as JSONL files into --out
  export-regimes  write the firm's daily regimes as the regimes source database holds them: into the
                  table --table of the PostgreSQL database --db (created if missing; the exported days
                  are replaced) and/or into the JSON Lines file --file

options:
  --seed N          generator seed (default ${DEFAULT_FIRM.seed})
  --accounts N      account slots (default ${DEFAULT_FIRM.accounts})
  --days N          trading days of history (default ${DEFAULT_FIRM.days})
  --start-date D    first day, YYYY-MM-DD (default ${DEFAULT_FIRM.startDate})
  --port N          serve: port, 0 = random (default 8787)
  --api-key KEY     serve: the key clients must send as ?apiKey= (or env DPM_API_KEY)
  --rate-limit N    serve: token bucket, N requests/s (default: unlimited)
  --burst N         serve: bucket size (default 2 x rate)
  --faults JSON     serve: faults, e.g. '{"serverErrors":{"probability":0.05}}'
  --out DIR         export: output folder
  --db URL          export-regimes: postgres:// URL of the database to write the table into
  --table NAME      export-regimes: schema.table (default public.regimes_daily)
  --file PATH       export-regimes: JSON Lines file, one regimes_daily row a line

examples:
  dpm sim serve --seed 1 --accounts 200 --days 120 --port 8787 --api-key KEY
  dpm sim export --seed 1 --accounts 50 --days 30 --out ./sim-export
  dpm sim export-regimes --seed 1 --days 120 --db postgres://postgres@127.0.0.1:5432/marketdata
`;

const int = (min: number) => z.coerce.number().int().min(min);
const Common = z.object({
  seed: int(0).default(DEFAULT_FIRM.seed),
  accounts: int(1).default(DEFAULT_FIRM.accounts),
  days: int(1).max(3650).default(DEFAULT_FIRM.days),
  'start-date': z
    .string()
    .regex(/^\d{4}-?\d{2}-?\d{2}$/, 'use YYYY-MM-DD')
    .default(DEFAULT_FIRM.startDate),
});
const Serve = Common.extend({
  port: int(0).max(65535).default(8787),
  'api-key': z.string().min(1, 'an API key is required (--api-key or DPM_API_KEY)'),
  'rate-limit': z.coerce.number().positive().optional(),
  burst: int(1).optional(),
  faults: z
    .string()
    .transform((s, ctx) => {
      try {
        return FaultsSchema.parse(JSON.parse(s));
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: `--faults: ${e instanceof Error ? e.message : String(e)}` });
        return z.NEVER;
      }
    })
    .optional(),
}).strict();
const Export = Common.extend({ out: z.string().min(1) }).strict();
// The regimes depend on the seed and the calendar only; --accounts is accepted for symmetry and changes nothing.
const ExportRegimes = Common.extend({
  db: z
    .string()
    .regex(/^postgres(ql)?:\/\//i, 'a postgres:// URL')
    .optional(),
  table: z.string().default('public.regimes_daily'),
  file: z.string().min(1).optional(),
})
  .strict()
  .refine((o) => o.db || o.file, { message: 'give --db URL, --file PATH or both' });

function parseFlags(args: string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) flags[a.slice(2)] = args[++i];
    else throw new Error(`${a} needs a value`);
  }
  return flags;
}

function usage(message: string): number {
  console.error(`dpm sim: ${message}\n\n${HELP}`);
  return 2;
}

export async function simMain(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (!verb || verb === '--help' || verb === '-h' || rest.includes('--help')) {
    console.log(HELP);
    return verb ? 0 : 2;
  }
  let flags: Record<string, string>;
  try {
    flags = parseFlags(rest);
  } catch (e) {
    return usage((e as Error).message);
  }
  if (verb === 'serve') {
    const parsed = Serve.safeParse({ 'api-key': process.env.DPM_API_KEY, ...flags });
    if (!parsed.success)
      return usage(parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; '));
    const o = parsed.data;
    const sim = await startSimServer({
      seed: o.seed,
      accounts: o.accounts,
      days: o.days,
      startDate: o['start-date'],
      apiKey: o['api-key'],
      port: o.port,
      rateLimit: o['rate-limit']
        ? { perSecond: o['rate-limit'], burst: o.burst ?? Math.max(1, Math.ceil(2 * o['rate-limit'])) }
        : undefined,
      faults: o.faults,
    });
    console.log(`simulated Risk Analytics API: ${sim.url}`);
    console.log(
      `firm: seed ${o.seed}, ${sim.firm.ledger.accounts.length} accounts over ${o.days} days ` +
        `from ${sim.firm.cal.iso(0).slice(0, 10)}`,
    );
    console.log('set DPM_API_BASE_URL to the URL above and DPM_API_KEY to your key; Ctrl-C stops');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await sim.close();
    return 0;
  }
  if (verb === 'export') {
    const parsed = Export.safeParse(flags);
    if (!parsed.success)
      return usage(parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; '));
    const o = parsed.data;
    try {
      const firm = generateFirm({ seed: o.seed, accounts: o.accounts, days: o.days, startDate: o['start-date'] });
      const counts = await exportFirm(firm, o.out);
      console.log(
        `wrote ${Object.entries(counts)
          .map(([f, n]) => `${n} ${f}`)
          .join(', ')} to ${o.out}`,
      );
      return 0;
    } catch (e) {
      console.error(`dpm sim export: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
  }
  if (verb === 'export-regimes') {
    const parsed = ExportRegimes.safeParse(flags);
    if (!parsed.success)
      return usage(parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; '));
    const o = parsed.data;
    if (o.db) registerSecret(passwordOf(o.db));
    try {
      const records = regimeRecords(o.seed, o['start-date'], o.days);
      const span = records.length
        ? `${records[0].date.slice(0, 10)}..${records[records.length - 1].date.slice(0, 10)}`
        : 'no days';
      if (o.db) {
        const { vectorType } = await writeRegimesTable(o.db, o.table, records);
        console.log(
          `wrote ${records.length} regimes (${span}) to ${describePgUrl(o.db)} table ${o.table} ` +
            `(vector_daily_regime ${vectorType}, NULL: the simulator has no embedding)`,
        );
      }
      if (o.file) {
        await writeLines(o.file, async (emit) => {
          for (const r of records) await emit(JSON.stringify(r));
        });
        console.log(`wrote ${records.length} regimes (${span}) to ${o.file}`);
      }
      return 0;
    } catch (e) {
      console.error(redact(`dpm sim export-regimes: ${e instanceof Error ? e.message : String(e)}`));
      return 1;
    }
  }
  return usage(`unknown command "${verb}"`);
}

/** Writes one line per emitted string; returns the number of lines. */
async function writeLines(
  path: string,
  lines: (emit: (line: string) => Promise<void>) => Promise<void>,
): Promise<number> {
  const out = createWriteStream(path);
  let n = 0;
  await lines(async (line) => {
    n++;
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  });
  out.end();
  await once(out, 'finish');
  return n;
}

/** Writes one JSONL file per record type; returns the number of records per file. */
export async function exportFirm(firm: Firm, dir: string): Promise<Record<string, number>> {
  await mkdir(dir, { recursive: true });
  const counts: Record<string, number> = {};
  const write = async (file: string, lines: (emit: (line: string) => Promise<void>) => Promise<void>) => {
    counts[file] = await writeLines(join(dir, file), lines);
  };
  const days = Array.from({ length: firm.days }, (_, d) => d);
  await write('accounts.jsonl', async (emit) => {
    for (const r of firm.accounts()) await emit(JSON.stringify(r));
  });
  await write('metrics_alltime.jsonl', async (emit) => {
    for (const r of firm.alltimeMetrics()) await emit(JSON.stringify(r));
  });
  await write('metrics_daily.jsonl', async (emit) => {
    for (const d of days) for (const r of firm.dailyMetrics(d)) await emit(JSON.stringify(r));
  });
  await write('metrics_hourly.jsonl', async (emit) => {
    for (const d of days) for (const r of firm.hourlyMetrics(d)) await emit(JSON.stringify(r));
  });
  await write('trades_closed.jsonl', async (emit) => {
    for (const d of days) for (const t of firm.closedTrades(d)) await emit(closedTradeJson(t));
  });
  await write('trades_open.jsonl', async (emit) => {
    for (const d of days) for (const t of firm.openTrades(d)) await emit(openTradeJson(t));
  });
  await write('regimes_daily.jsonl', async (emit) => {
    for (const d of days) for (const r of firm.regimes(d)) await emit(JSON.stringify(r));
  });
  await write('oracle.jsonl', async (emit) => {
    for (const d of days) for (const r of firm.oracleRecords(d)) await emit(JSON.stringify(r));
  });
  return counts;
}
