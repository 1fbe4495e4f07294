// Ingest benchmark: closed trades of a simulated firm (2 000 account slots x 365 days by default, millions of
// trades) from the simulated API, served by its own process, into a fresh PostgreSQL database through
// `dpm ingest trades closed` (runIngest in this process: fetch, JSON.parse, zod, CSV, COPY + upsert,
// checkpoints). For comparison it dumps the landed rows to a CSV file and times a plain COPY of that file into
// an empty table of the same shape. Prints numbers; never passes or fails on time. The database is dropped.
// Usage: npx tsx bench/ingest.ts [--accounts 2000 --days 365 --batch-days 7 --concurrency 4 --flush-rows 20000
//        --pg-url postgres://postgres@127.0.0.1:5432/test --prof DIR --verbose]
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { runIngest } from '../cli/ingest-command.ts';
import { addDays } from '../runner/dates.ts';
import { connect } from '../runner/db/connect.ts';
import { migrateLatest } from '../migrations/migrate.ts';
import { postgresTarget } from '../runner/db/target.ts';
import { endpointByName } from '../ingest/endpoints.ts';
import { startSimServer } from '../sim/server.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const ACCOUNTS = Number(arg('accounts', '2000'));
const DAYS = Number(arg('days', '365'));
const START = '2024-01-01';
const API_KEY = 'bench-KEY';
/** The original pipeline's closed trades (upstream facts, section 8). */
const ORIGINAL_TRADES = 81_000_000;

// The simulated API runs in a child process so that serving does not share this process's event loop.
if (process.argv.includes('--child')) {
  const sim = await startSimServer({ seed: 1, accounts: ACCOUNTS, days: DAYS, startDate: START, apiKey: API_KEY });
  process.send?.(sim.url);
  process.on('message', () => process.send?.(process.cpuUsage()));
  process.on('disconnect', () => void sim.close().then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const PG_URL = arg('pg-url', process.env.DPM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const duration = (s: number) =>
    s >= 5400 ? `${(s / 3600).toFixed(1)} h` : s >= 120 ? `${(s / 60).toFixed(0)} min` : `${s.toFixed(0)} s`;
  const end = addDays(START, DAYS - 1);
  console.log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; node ${process.version}`,
  );

  let t = performance.now();
  const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--child'], {
    execArgv: [
      '--import',
      'tsx',
      ...(process.argv.includes('--prof') ? ['--cpu-prof', `--cpu-prof-dir=${arg('prof', '.')}`] : []),
    ],
  });
  const url = await new Promise<string>((resolve) => child.once('message', (m) => resolve(String(m))));
  console.log(
    `simulated API (own process): ${ACCOUNTS} slots x ${DAYS} days ` +
      `ready in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const serverCpu = () =>
    new Promise<number>((resolve) => {
      child.once('message', (m) => resolve(((m as NodeJS.CpuUsage).user + (m as NodeJS.CpuUsage).system) / 1e6));
      child.send('cpu');
    });

  const name = `dpm_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'dpm-bench-ingest-'));
  try {
    const db = await connect(postgresTarget('bench', dbUrl.toString()));
    let landed: number;
    let e2e: number;
    try {
      await migrateLatest(db.knex);
      // ---- end to end: the CLI's code path, unthrottled (the real API caps at 15 requests/s) ----
      const cpu0 = await serverCpu();
      const client0 = process.cpuUsage();
      t = performance.now();
      const code = await runIngest(
        {
          what: ['trades', 'closed'],
          startDate: START,
          endDate: end,
          batchDays: Number(arg('batch-days', '7')),
          maxRps: 100_000,
          concurrency: Number(arg('concurrency', '4')),
          flushRows: Number(arg('flush-rows', '20000')),
          timeout: 120,
          force: false,
          projectDir: '.',
          logLevel: process.argv.includes('--verbose') ? 'info' : 'warn',
          json: false,
          lockWait: 0,
          db,
        },
        { DPM_API_BASE_URL: url, DPM_API_KEY: API_KEY },
      );
      const s = (performance.now() - t) / 1000;
      const c = process.cpuUsage(client0);
      const simCpu = (await serverCpu()) - cpu0;
      if (code !== 0) throw new Error(`dpm ingest exited ${code}`);
      landed = Number((await db.knex.raw('select count(*)::bigint as n from raw.trades_closed')).rows[0].n);
      e2e = landed / s;
      const clientCpu = (c.user + c.system) / 1e6;
      console.log(
        `end to end (API -> raw.trades_closed): ${fmt(landed)} trades in ${s.toFixed(1)} s = ${fmt(e2e)} trades/s`,
      );
      console.log(
        `  CPU: ingest client ${clientCpu.toFixed(1)} s (${((clientCpu * 1e6) / landed).toFixed(2)} us/trade), ` +
          `simulated API ${simCpu.toFixed(1)} s (${((simCpu * 1e6) / landed).toFixed(2)} us/trade); ` +
          `the rest of ${(2 * s).toFixed(0)} core-seconds is PostgreSQL and idle`,
      );
    } finally {
      await db.close();
    }

    // ---- raw COPY of the same rows from a file ----
    const spec = endpointByName('trades closed')!;
    const cols = [...spec.fields.map((f) => f.column), 'extra'].join(', ');
    const file = join(dir, 'trades_closed.csv');
    const bench = new pg.Client({ connectionString: dbUrl.toString() });
    await bench.connect();
    try {
      await pipeline(
        bench.query(copyTo(`copy (select ${cols} from raw.trades_closed) to stdout (format csv)`)),
        createWriteStream(file),
      );
      const copyFile = async (table: string) => {
        const t0 = performance.now();
        await pipeline(
          createReadStream(file, { highWaterMark: 1 << 20 }),
          bench.query(copyFrom(`copy ${table} (${cols}) from stdin (format csv)`)),
        );
        return (performance.now() - t0) / 1000;
      };
      await bench.query('create table raw.copy_bench (like raw.trades_closed including all)');
      await bench.query('checkpoint');
      const rawS = await copyFile('raw.copy_bench');
      const rawRate = landed / rawS;
      console.log(
        `raw COPY from a file (${fmt(statSync(file).size / 2 ** 20)} MB CSV) into an empty table of the same shape ` +
          `(key + index): ${rawS.toFixed(1)} s = ${fmt(rawRate)} trades/s`,
      );

      // What the lander asks of the database for the same rows: COPY into an unlogged scratch table, then the
      // upsert.
      await bench.query('create unlogged table raw.copy_stage (like raw.trades_closed including defaults)');
      await bench.query('create table raw.copy_upsert (like raw.trades_closed including all)');
      await bench.query('checkpoint');
      const stageS = await copyFile('raw.copy_stage');
      const t1 = performance.now();
      await bench.query(
        `insert into raw.copy_upsert (${cols}) select ${cols} from raw.copy_stage ` +
          `on conflict (${spec.key.join(', ')}) do nothing`,
      );
      const upsertS = (performance.now() - t1) / 1000;
      console.log(
        `  the lander's database work alone, as one batch: COPY to the scratch table ${stageS.toFixed(1)} s + ` +
          `insert into the keyed table ${upsertS.toFixed(1)} s = ${fmt(landed / (stageS + upsertS))} trades/s`,
      );

      console.log(
        `end to end / raw COPY: ${((100 * e2e) / rawRate).toFixed(0)}% (target >= 50%, and >= 100 000 trades/s)`,
      );
      console.log(
        `the original pipeline's ${fmt(ORIGINAL_TRADES)} closed trades: ${duration(ORIGINAL_TRADES / e2e)} ` +
          'at this rate; against the real API at its cap of 15 requests/s x 1 000 trades a page: ' +
          duration(ORIGINAL_TRADES / 15_000),
      );
    } finally {
      await bench.end();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
    child.disconnect();
  }
}
