// Real databases for tests: a fresh PostgreSQL database per use on the local server, or a fresh
// embedded PGlite data directory. Both targets run by default; DPM_TEST_TARGETS narrows it.
import { mkdtempSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresTarget, type Target } from '../../runner/db/target.ts';

export type TargetKind = 'pglite' | 'postgres';

export const TEST_PG_URL = process.env.DPM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

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
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL tests need a server at ${TEST_PG_URL} (${(err as Error).message}). Start it ` +
        `(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), set DPM_TEST_PG_URL, ` +
        `or run only the embedded target with DPM_TEST_TARGETS=pglite.`,
    );
  }
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    kind,
    target: postgresTarget('test', url.toString()),
    env: { DPM_DATABASE_URL: url.toString() },
    async dispose() {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Copies a fixture project into a new temp folder so each test has its own target/ and .dpm/. */
export function copyProject(fixture: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dpm-project-'));
  cpSync(fixture, dir, { recursive: true, filter: (src) => !/[\\/](target|\.dpm)([\\/]|$)/.test(src) });
  return dir;
}
