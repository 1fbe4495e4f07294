import type { FreshnessSpec } from './properties.ts';
import type nunjucks from 'nunjucks';
import type { ModelConfig, SeedConfig, SnapshotConfig, SnapshotMetaColumn } from './node-config.ts';
import type { Relation } from './templating.ts';

export interface ColumnDoc {
  name: string;
  description?: string;
  data_type?: string;
}

interface BaseNode {
  /** `model.<project>.<name>`, `seed.<project>.<name>`, `snapshot.<project>.<name>`, `test.<project>.<name>`. */
  uniqueId: string;
  name: string;
  /** Project-relative file, for messages and path: selection. */
  path: string;
  fqn: string[];
  tags: string[];
  dependsOn: string[];
  checksum: string;
  description?: string;
  columns: Record<string, ColumnDoc>;
}

export type ResolvedModelConfig = ModelConfig & {
  materialized: NonNullable<ModelConfig['materialized']>;
  schema: string;
  alias: string;
  tags: string[];
  enabled: boolean;
};

export interface ModelNode extends BaseNode {
  resourceType: 'model';
  config: ResolvedModelConfig;
  rawSql: string;
  template: nunjucks.Template;
  refs: { name: string; line: number }[];
  sources: { source: string; table: string; line: number }[];
  relation: Relation;
}

export interface SeedNode extends BaseNode {
  resourceType: 'seed';
  config: SeedConfig & { schema: string; alias: string; tags: string[]; enabled: boolean };
  /** One CSV, or every CSV of a seed folder (several exports of one table). */
  files: string[];
  relation: Relation;
}

export type ResolvedSnapshotConfig = SnapshotConfig & {
  strategy: NonNullable<SnapshotConfig['strategy']>;
  unique_key: string[];
  schema: string;
  alias: string;
  tags: string[];
  enabled: boolean;
  /** hard_deletes, or the legacy invalidate_hard_deletes translated to it. */
  hard_deletes: NonNullable<SnapshotConfig['hard_deletes']>;
};

/** A dbt snapshot: a type-2 history table of its query, one new row version per change. */
export interface SnapshotNode extends BaseNode {
  resourceType: 'snapshot';
  config: ResolvedSnapshotConfig;
  /** The meta columns' names in the table (dbt's names unless snapshot_meta_column_names renames them). */
  metaColumns: Record<SnapshotMetaColumn, string>;
  /** The block's body, at its lines of the file (the lines before it blank), so errors name the file's line. */
  rawSql: string;
  template: nunjucks.Template;
  refs: { name: string; line: number }[];
  sources: { source: string; table: string; line: number }[];
  relation: Relation;
  line: number;
}

export interface TestNode extends BaseNode {
  resourceType: 'test';
  config: { severity: 'warn' | 'error'; where?: string; tags: string[]; enabled: boolean };
  /** Generic tests: the test's name (`unique`, `relationships`, ...) and arguments; singular: the SQL. */
  testName: string;
  kwargs: Record<string, unknown>;
  column?: string;
  /** The model/seed/snapshot a generic test belongs to; its failures block that node's children in `build`. */
  attachedTo?: string;
  rawSql?: string;
  template?: nunjucks.Template;
  line: number;
}

/** Rows standing in for a relation: cells as text (null = NULL), cast to the relation's column types when run. */
export type Fixture =
  | { kind: 'rows'; columns: string[]; rows: (string | null)[][] }
  | { kind: 'sql'; sql: string }
  /** A seed given without rows: its own CSV rows, as dbt does. */
  | { kind: 'seed' };

export interface UnitTestInput {
  /** As written in yml: `ref('x')`, `source('s', 't')` or `this`. */
  input: string;
  /** The node or source table (`source.<project>.<s>.<t>`) it replaces; `this`: the model under test. */
  target: string;
  fixture: Fixture;
  line: number;
}

/** dbt's unit test: the model's SQL run on given rows in place of its inputs, compared with expected rows. */
export interface UnitTestNode extends BaseNode {
  resourceType: 'unit_test';
  config: { tags: string[]; enabled: boolean; meta?: Record<string, unknown> };
  /** The model under test (unique id). dependsOn holds the model's parents, as in dbt, not the model. */
  model: string;
  given: UnitTestInput[];
  expect: Fixture;
  overrides: { vars: Record<string, unknown>; macros: Record<string, unknown>; envVars: Record<string, string> };
  line: number;
}

export type GraphNode = ModelNode | SeedNode | SnapshotNode | TestNode | UnitTestNode;

export interface SourceTable {
  uniqueId: string;
  source: string;
  table: string;
  relation: Relation;
  description?: string;
  columns: Record<string, ColumnDoc>;
  /** `dpm source freshness`: the timestamp column read and the rule; none when either is missing. */
  loadedAtField?: string;
  freshness?: FreshnessSpec | null;
}
