import type { Knex } from 'knex';
import type { TestNode } from '../project/nodes.ts';
import { runVerbatim } from '../db/pg-connection.ts';

export interface TestOutcome {
  status: 'pass' | 'fail' | 'warn';
  failures: number;
}

/** Counts the failing rows a test query returns; severity decides whether failures fail or warn. */
export async function runDataTest(knex: Knex, test: TestNode, sql: string): Promise<TestOutcome> {
  const { rows } = await runVerbatim(knex, `select count(*)::bigint as failures from (\n${sql}\n) as dpm_test`);
  const failures = Number(rows[0].failures);
  if (failures === 0) return { status: 'pass', failures };
  return { status: test.config.severity === 'warn' ? 'warn' : 'fail', failures };
}
