// Real databases for tests: a fresh PostgreSQL database per use on the local server or on a Citus cluster, or a
// fresh embedded PGlite data directory. PGlite and PostgreSQL run by default; DPM_TEST_TARGETS picks others.
import { mkdtempSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresTarget, type Target } from '../../runner/db/target.ts';

export type TargetKind = 'pglite' | 'postgres' | 'citus';

export const TEST_PG_URL = process.env.DPM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A Citus coordinator's database whose cluster (workers in pg_dist_node) the test databases copy. */
export const TEST_CITUS_URL = process.env.DPM_TEST_CITUS_URL ?? 'postgres://postgres@127.0.0.1:9700/dpm';

export const TARGET_KINDS: TargetKind[] = (process.env.DPM_TEST_TARGETS ?? 'pglite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean) as TargetKind[];

export interface TestTarget {
  kind: TargetKind;
  target: Target;
  /** Environment for a `dpm` child process or an in-process main() call that should use this target. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/** A new, empty database: CREATE DATABASE on the local server, or a new PGlite directory under `dir`. */
export async function freshTarget(kind: TargetKind, dir?: string): Promise<TestTarget> {
  if (kind === 'pglite') {
    const base = dir ?? mkdtempSync(join(tmpdir(), 'dpm-pglite-'));
    const dataDir = join(base, '.dpm', 'pglite');
    return {
      kind,
      target: { kind: 'pglite', name: 'test', dataDir, threads: 1 },
      env: {},
      async dispose() {
        if (!dir) rmSync(base, { recursive: true, force: true });
      },
    };
  }
  const name = `dpm_test_${randomBytes(5).toString('hex')}`;
  const servers = kind === 'citus' ? await citusNodes() : [TEST_PG_URL];
  for (const server of servers) await adminQuery(server, `create database ${name}`);
  const url = withDatabase(servers[0], name);
  if (kind === 'citus') await joinCluster(url, servers);
  return {
    kind,
    target: postgresTarget('test', url),
    env: { DPM_DATABASE_URL: url },
    async dispose() {
      for (const server of servers) await adminQuery(server, `drop database if exists ${name} with (force)`);
    },
  };
}

/** Server targets (PostgreSQL, Citus) share behaviour the embedded database lacks: a URL, other sessions. */
export function isServer(kind: TargetKind): boolean {
  return kind !== 'pglite';
}

function withDatabase(server: string, name: string): string {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(server: string, sql: string): Promise<void> {
  await withClient(server, (client) => client.query(sql));
}

async function withClient<T>(server: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  try {
    await client.connect();
  } catch (err) {
    const citus = new URL(server).port === new URL(TEST_CITUS_URL).port;
    throw new Error(
      `${citus ? 'Citus' : 'PostgreSQL'} tests need a server at ${server} (${(err as Error).message}). ` +
        (citus
          ? 'Start a cluster (../shared/citus/cluster.sh in CI, or your own) and set DPM_TEST_CITUS_URL to its ' +
            "coordinator's database, or leave citus out of DPM_TEST_TARGETS."
          : 'Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), set ' +
            'DPM_TEST_PG_URL, or run only the embedded target with DPM_TEST_TARGETS=pglite.'),
    );
  }
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** The coordinator then each worker, as URLs of their maintenance database `postgres`. */
async function citusNodes(): Promise<string[]> {
  const { rows } = await withClient(TEST_CITUS_URL, (client) =>
    client.query<{ nodename: string; nodeport: number }>(
      `select nodename, nodeport from pg_dist_node where noderole = 'primary' and groupid <> 0 order by nodeport`,
    ),
  );
  if (rows.length === 0) throw new Error(`${TEST_CITUS_URL} is not a Citus coordinator with workers`);
  const coordinator = withDatabase(TEST_CITUS_URL, 'postgres');
  return [
    coordinator,
    ...rows.map((r) => {
      const url = new URL(coordinator);
      url.hostname = r.nodename;
      url.port = String(r.nodeport);
      return url.toString();
    }),
  ];
}

/** Citus needs its extension in the new database on every node, then the workers registered again. */
async function joinCluster(url: string, servers: string[]): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  for (const server of servers) await adminQuery(withDatabase(server, name), 'create extension citus');
  const [coordinator, ...workers] = servers.map((s) => new URL(s));
  const add = workers.map((w) => `select citus_add_node('${w.hostname}', ${w.port});`).join(' ');
  await adminQuery(url, `select citus_set_coordinator_host('${coordinator.hostname}', ${coordinator.port}); ${add}`);
}

/** Copies a fixture project into a new temp folder so each test has its own target/ and .dpm/. */
export function copyProject(fixture: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dpm-project-'));
  cpSync(fixture, dir, { recursive: true, filter: (src) => !/[\\/](target|\.dpm)([\\/]|$)/.test(src) });
  return dir;
}
