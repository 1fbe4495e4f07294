import type { FreshnessSpec } from './properties.ts';
import type nunjucks from 'nunjucks';
import type { ModelConfig, SeedConfig } from './node-config.ts';
import type { Relation } from './templating.ts';

export interface ColumnDoc {
  name: string;
  description?: string;
  data_type?: string;
}

interface BaseNode {
  /** `model.<project>.<name>`, `seed.<project>.<name>`, `test.<project>.<name>` as in dbt. */
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

export interface TestNode extends BaseNode {
  resourceType: 'test';
  config: { severity: 'warn' | 'error'; where?: string; tags: string[]; enabled: boolean };
  /** Generic tests: the test's name (`unique`, `relationships`, ...) and arguments; singular: the SQL. */
  testName: string;
  kwargs: Record<string, unknown>;
  column?: string;
  /** The model/seed a generic test belongs to; its failures block that node's children in `build`. */
  attachedTo?: string;
  rawSql?: string;
  template?: nunjucks.Template;
  line: number;
}

export type GraphNode = ModelNode | SeedNode | TestNode;

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
