import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { z } from 'zod';
import { loadProjectConfig, PROJECT_FILE, type ProjectConfig } from '../runner/config/project-config.ts';
import { connect, type Database } from '../runner/db/connect.ts';
import { migrateLatest } from '../migrations/migrate.ts';
import { resolveTarget } from '../runner/db/target.ts';
import { ConfigError, DpmError, UsageError } from '../runner/errors.ts';
import { ApiClient } from '../ingest/client.ts';
import { ENDPOINT_SPECS, endpointByName, type EndpointSpec } from '../ingest/endpoints.ts';
import { ingestEndpoint, IngestWindowError, type IngestOptions, type ListingSummary } from '../ingest/ingest.ts';
import { dropStaleStages } from '../ingest/landing.ts';
import { resolveRegimesSource, type RegimesFrom, type RegimesSource } from '../ingest/regimes.ts';
import { DEFAULT_MAX_REJECT_SHARE } from '../ingest/window.ts';
import { ingestRegimesFromDatabase, RegimesSourceError } from '../ingest/regimes-db.ts';
import { ingestRegimesFromFile } from '../ingest/regimes-file.ts';
import { createLogger, formatCount } from '../runner/log.ts';
import { checkDateFlags, type CommonArgs } from './session.ts';

const apiEnv = z.object({
  DPM_API_BASE_URL: z.url({
    error: (i) =>
      i.input === undefined
        ? 'DPM_API_BASE_URL is not set'
        : 'DPM_API_BASE_URL must be the API base URL, e.g. https://host/risk-analytics/tft/external/',
  }),
  DPM_API_KEY: z.string({ error: 'DPM_API_KEY is not set' }).min(1, 'DPM_API_KEY is empty'),
});

/** Snapshot endpoints first: trades join to accounts through metrics alltime. */
export const INGEST_ORDER = [
  'accounts',
  'metrics alltime',
  'regimes',
  'metrics daily',
  'trades closed',
  'trades open',
  'metrics hourly',
];

export function resolveEndpoints(words: string[]): EndpointSpec[] {
  const phrase = words.join(' ').trim();
  if (!phrase || phrase === 'all') return INGEST_ORDER.map((n) => endpointByName(n)!);
  if (phrase === 'metrics')
    return ['metrics alltime', 'metrics daily', 'metrics hourly'].map((n) => endpointByName(n)!);
  if (phrase === 'trades') return ['trades closed', 'trades open'].map((n) => endpointByName(n)!);
  const spec = endpointByName(phrase);
  if (!spec)
    throw new UsageError(
      `unknown ingest source '${phrase}'. ` +
        `Choose one of: all, ${ENDPOINT_SPECS.map((e) => e.name).join(', ')}, metrics, trades.`,
    );
  return [spec];
}

export interface IngestRunArgs extends CommonArgs {
  what: string[];
  startDate?: string;
  endDate?: string;
  batchDays: number;
  maxRps: number;
  concurrency: number;
  force: boolean;
  flushRows: number;
  timeout: number;
  /** Regimes from this file export (JSON Lines or CSV) instead of a database or the API. */
  fromFile?: string;
  /** Regimes from the source database or the simulator; auto = the database when one is configured. */
  regimesFrom?: RegimesFrom;
  /** Share of a window's records that may fail validation before the window fails. */
  maxRejectShare?: number;
}

export async function runIngest(args: IngestRunArgs, env = process.env): Promise<number> {
  const log = createLogger({ level: args.logLevel, json: args.json });
  const specs = resolveEndpoints(args.what);
  const root = resolve(args.projectDir);
  let config: ProjectConfig | undefined;
  const projectConfig = () => (config ??= loadProjectConfig(root));
  let regimes: RegimesSource | undefined;
  if (specs.some((s) => s.name === 'regimes')) {
    // A caller with its own connection (dpm pipeline, benches) may run outside a project folder.
    const regimesConfig =
      args.db && !existsSync(join(root, PROJECT_FILE)) ? undefined : projectConfig()['regimes-source'];
    regimes = resolveRegimesSource({
      fromFile: args.fromFile,
      regimesFrom: args.regimesFrom,
      config: regimesConfig,
      env,
    });
  } else if (args.fromFile !== undefined)
    throw new UsageError('--from-file reads the regimes: dpm ingest regimes --from-file regimes.jsonl');
  /** Where a source's records come from: only the regimes have a choice. */
  const originOf = (s: EndpointSpec) => (s.name === 'regimes' && regimes?.kind !== 'sim' ? regimes?.kind : 'api');
  // A file export is read whole unless dates are given.
  const dated = (s: EndpointSpec) => s.windowParams && originOf(s) !== 'file' && originOf(s) !== 'none';
  if (specs.some(dated) && (!args.startDate || !args.endDate))
    throw new UsageError(
      '--start-date and --end-date are required for dated sources (metrics daily/hourly, trades, regimes).',
    );
  const options: IngestOptions = {
    startDate: args.startDate,
    endDate: args.endDate,
    batchDays: args.batchDays,
    concurrency: args.concurrency,
    flushRows: args.flushRows,
    force: args.force,
    maxRejectShare: args.maxRejectShare,
  };
  let client: ApiClient | undefined;
  if (specs.some((s) => originOf(s) === 'api')) {
    const parsedEnv = apiEnv.safeParse(env);
    if (!parsedEnv.success)
      throw new ConfigError(
        `${parsedEnv.error.issues[0].message}. ` +
          'Set DPM_API_BASE_URL and DPM_API_KEY (or run dpm demo, which starts the simulated API).',
      );
    client = new ApiClient({
      baseUrl: parsedEnv.data.DPM_API_BASE_URL,
      apiKey: parsedEnv.data.DPM_API_KEY,
      maxRps: args.maxRps,
      burst: Math.max(20, args.maxRps),
      timeoutMs: args.timeout * 1000,
      onRetry: (m) => log.warn(m),
    });
  }
  const ingestSource = (db: Database, spec: EndpointSpec): Promise<ListingSummary[]> => {
    if (regimes?.kind === 'database' && spec.name === 'regimes')
      return ingestRegimesFromDatabase(db, spec, regimes, options, log);
    if (regimes?.kind === 'file' && spec.name === 'regimes')
      return ingestRegimesFromFile(db, spec, regimes, options, log);
    if (regimes?.kind === 'none' && spec.name === 'regimes') return skipRegimes(db, regimes.why);
    if (regimes?.kind === 'sim' && spec.name === 'regimes')
      log.info(`regimes from the simulated API's ${spec.path} (${regimes.why})`);
    return ingestEndpoint(db, client!, spec, options, log);
  };
  // Said once, and kept in the checkpoints as skipped so that the run's record shows what it left out.
  const skipRegimes = async (db: Database, why: string): Promise<ListingSummary[]> => {
    log.warn(why, { endpoint: 'regimes', status: 'skipped' });
    const windowKey = args.startDate && args.endDate ? `${args.startDate}..${args.endDate}` : 'all';
    await db
      .knex('dpm.ingest_checkpoints')
      .insert({ endpoint: 'regimes', window_key: windowKey, status: 'skipped', updated_at: new Date() })
      .onConflict(['endpoint', 'window_key'])
      .merge(['status', 'updated_at']);
    return [];
  };
  const all: ListingSummary[] = [];
  let failed = 0;
  const ingestAll = async (db: Database) => {
    await migrateLatest(db.knex);
    const stale = await dropStaleStages(db);
    if (stale) log.info(`Dropped ${stale} staging table(s) left by an interrupted ingest`);
    for (const spec of specs) {
      try {
        all.push(...(await ingestSource(db, spec)));
        // Models join these tables right after ingest; stale statistics would make the planner guess badly.
        await db.knex.raw(`analyze ${spec.table}`);
      } catch (err) {
        if (!(err instanceof IngestWindowError) && !(err instanceof RegimesSourceError)) throw err;
        failed++;
        log.error(err.message, { endpoint: spec.name, status: 'error' });
        if (err instanceof IngestWindowError && err.fatal) {
          log.error('Stopping: the API refused the key, so every other source would fail the same way.');
          break;
        }
      }
    }
  };
  if (args.db) await ingestAll(args.db);
  else {
    const db = await connect(resolveTarget(projectConfig(), args.target), { lockWaitMs: args.lockWait * 1000 });
    try {
      const release = await db.acquireRunLock(args.lockWait * 1000);
      try {
        await ingestAll(db);
      } finally {
        await release();
      }
    } finally {
      await db.close();
    }
  }
  const sum = (k: 'fetched' | 'loaded' | 'rejected' | 'duplicates') => all.reduce((a, s) => a + s[k], 0);
  const skipped = all.filter((s) => s.status === 'skipped').length;
  const requests = client ? `; ${client.requests.sent} requests, ${client.requests.retried} retries` : '';
  log.info(
    `Ingest ${failed ? 'finished with errors' : 'done'}: fetched ${formatCount(sum('fetched'))} = ` +
      `loaded ${formatCount(sum('loaded'))} + rejected ${formatCount(sum('rejected'))} + ` +
      `duplicates ${formatCount(sum('duplicates'))}; ` +
      `${all.length - skipped} window(s) fetched, ${skipped} already done (--force refetches), ` +
      `${failed} failed${requests}`,
    {
      summary: true,
      fetched: sum('fetched'),
      loaded: sum('loaded'),
      rejected: sum('rejected'),
      duplicates: sum('duplicates'),
      failed,
    },
  );
  return failed ? 1 : 0;
}

export function registerIngestCommand(cli: Argv, done: (code: number) => void): void {
  cli.command(
    'ingest [what..]',
    'pull accounts, metrics and trades from the Risk Analytics API, ' +
      'and regimes from their source database (or a file export, or the API), into raw.*',
    (y) =>
      y
        .positional('what', {
          type: 'string',
          array: true,
          describe: 'all | accounts | metrics [alltime|daily|hourly] | trades [closed|open] | regimes',
        })
        .option('start-date', { type: 'string', describe: 'first day, YYYY-MM-DD' })
        .option('end-date', { type: 'string', describe: 'last day (inclusive), YYYY-MM-DD' })
        .option('batch-days', { type: 'number', default: 7, describe: 'days per window (one checkpoint each)' })
        .option('max-rps', { type: 'number', default: 15, describe: 'request rate cap (the API allows 15/s)' })
        .option('concurrency', { type: 'number', default: 4, describe: 'pages fetched at once within a window' })
        .option('flush-rows', {
          type: 'number',
          default: 20_000,
          describe: 'records buffered per COPY + upsert + checkpoint',
        })
        .option('timeout', {
          type: 'number',
          default: 120,
          describe: 'seconds before a request is abandoned and retried',
        })
        .option('force', { type: 'boolean', default: false, describe: 'refetch windows a previous run finished' })
        .option('from-file', {
          type: 'string',
          describe:
            'regimes: read this export instead ' +
            '(.jsonl, one regimes_daily row a line; or .csv as psql \\copy ... csv header writes it)',
        })
        .option('regimes-from', {
          choices: ['auto', 'sim', 'database'] as const,
          default: 'auto' as const,
          describe:
            'regimes: auto = the source database when DPM_REGIMES_DATABASE_URL ' +
            "(or regimes-source in dpm.yml) is set, else skipped; sim = the simulator's v2/regimes/daily",
        })
        .option('max-reject-share', {
          type: 'number',
          default: DEFAULT_MAX_REJECT_SHARE,
          describe: 'share of a window that may fail validation before the window fails (0.01 = 1%)',
        })
        .check((a) => {
          checkDateFlags(a);
          if (a['start-date'] && a['end-date'] && String(a['start-date']) > String(a['end-date']))
            throw new UsageError('--start-date is after --end-date');
          if (
            !(Number(a['batch-days']) >= 1) ||
            !(Number(a['max-rps']) > 0) ||
            !(Number(a.concurrency) >= 1) ||
            !(Number(a['flush-rows']) >= 1) ||
            !(Number(a.timeout) > 0) ||
            !(Number(a['max-reject-share']) >= 0 && Number(a['max-reject-share']) <= 1)
          )
            throw new UsageError(
              '--batch-days, --max-rps, --concurrency, --flush-rows and --timeout must be positive, ' +
                '--max-reject-share between 0 and 1',
            );
          return true;
        })
        .example(
          'DPM_API_BASE_URL=... DPM_API_KEY=... dpm ingest trades closed ' +
            '--start-date 2025-01-01 --end-date 2025-01-31',
          '',
        )
        .example(
          'DPM_REGIMES_DATABASE_URL=postgres://user:pass@host/marketdata dpm ingest regimes ' +
            '--start-date 2025-01-01 --end-date 2025-01-31',
          'regimes from public.regimes_daily',
        )
        .example('dpm ingest regimes --from-file regimes_daily.jsonl', 'regimes from a file export'),
    async (a) => {
      try {
        done(await runIngest(a as unknown as IngestRunArgs));
      } catch (err) {
        if (err instanceof DpmError) throw err;
        throw new DpmError((err as Error).message);
      }
    },
  );
}
