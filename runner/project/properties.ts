import { isMap, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { ProjectError } from '../errors.ts';

/** One data test as written in yml, before it becomes a graph node. */
export interface TestSpec {
  testName: string;
  /** The test's own name (`name:`), which dbt uses instead of the generated one. */
  name?: string;
  args: Record<string, unknown>;
  config: Record<string, unknown>;
  column?: string;
  file: string;
  line: number;
}

export interface ColumnSpec {
  name: string;
  description?: string;
  data_type?: string;
  tests: TestSpec[];
}

/** dbt's source freshness: how old the newest `loaded_at_field` may be before a warning or an error. */
export interface FreshnessSpec {
  warnAfterSeconds?: number;
  errorAfterSeconds?: number;
  filter?: string;
}

export interface ResourceSpec {
  name: string;
  /** Snapshots defined in yml (dbt 1.9): the `ref('x')` or `source('a', 'b')` they snapshot. */
  relation?: string;
  /** Source tables only: the timestamp column and its freshness rule (null: none, overriding the source's). */
  loadedAtField?: string;
  freshness?: FreshnessSpec | null;
  description?: string;
  config: Record<string, unknown>;
  columns: ColumnSpec[];
  tests: TestSpec[];
  file: string;
  line: number;
}

export interface SourceSpec {
  name: string;
  schema: string;
  loadedAtField?: string;
  freshness?: FreshnessSpec | null;
  description?: string;
  tables: ResourceSpec[];
  file: string;
  line: number;
}

/** One `given:` input or the `expect:` of a unit test, as written; checked and read when the project loads. */
export interface FixtureSpec {
  format: 'dict' | 'csv' | 'sql';
  rows?: Record<string, unknown>[] | string;
  fixture?: string;
  line: number;
}

export interface UnitTestSpec {
  name: string;
  model: string;
  description?: string;
  given: (FixtureSpec & { input: string })[];
  expect: FixtureSpec;
  overrides: { vars: Record<string, unknown>; macros: Record<string, unknown>; envVars: Record<string, string> };
  config: { tags: string[]; enabled?: boolean; meta?: Record<string, unknown> };
  file: string;
  line: number;
}

export interface PropertiesFile {
  models: ResourceSpec[];
  seeds: ResourceSpec[];
  snapshots: ResourceSpec[];
  sources: SourceSpec[];
  unitTests: UnitTestSpec[];
}

const testEntry = z.union([z.string(), z.record(z.string(), z.unknown())]);
const columnShape = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    data_type: z.string().optional(),
    data_tests: z.array(testEntry).optional(),
    tests: z.array(testEntry).optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
    quote: z.boolean().optional(),
  })
  .strict();
const resourceShape = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    columns: z.array(columnShape).optional(),
    data_tests: z.array(testEntry).optional(),
    tests: z.array(testEntry).optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
    docs: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
const period = z
  .object({ count: z.number().int().positive(), period: z.enum(['minute', 'hour', 'day']) })
  .strict()
  .transform((p) => p.count * { minute: 60, hour: 3600, day: 86400 }[p.period]);
const freshnessShape = z
  .object({ warn_after: period.optional(), error_after: period.optional(), filter: z.string().optional() })
  .strict()
  .transform((f) => ({ warnAfterSeconds: f.warn_after, errorAfterSeconds: f.error_after, filter: f.filter }))
  .nullable();
const sourceTableShape = resourceShape.extend({
  loaded_at_field: z.string().optional(),
  freshness: freshnessShape.optional(),
});
const fixtureShape = {
  format: z.enum(['dict', 'csv', 'sql']).default('dict'),
  rows: z.union([z.array(z.record(z.string(), z.unknown())), z.string()]).optional(),
  fixture: z.string().optional(),
};
const unitTestShape = z
  .object({
    name: z.string().regex(/^[A-Za-z_]\w*$/, 'an identifier (letters, digits, _)'),
    model: z.string(),
    description: z.string().optional(),
    given: z.array(z.object({ input: z.string(), ...fixtureShape }).strict()).default([]),
    expect: z.object(fixtureShape).strict(),
    overrides: z
      .object({
        vars: z.record(z.string(), z.unknown()).default({}),
        macros: z.record(z.string(), z.unknown()).default({}),
        env_vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
      })
      .strict()
      .optional(),
    config: z
      .object({
        tags: z.union([z.string(), z.array(z.string())]).optional(),
        enabled: z.boolean().optional(),
        meta: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
const fileShape = z
  .object({
    version: z.number().optional(),
    unit_tests: z.array(unitTestShape).optional(),
    models: z.array(resourceShape).optional(),
    seeds: z.array(resourceShape).optional(),
    snapshots: z.array(resourceShape.extend({ relation: z.string().optional() })).optional(),
    sources: z
      .array(
        z
          .object({
            name: z.string(),
            schema: z.string().optional(),
            description: z.string().optional(),
            loaded_at_field: z.string().optional(),
            freshness: freshnessShape.optional(),
            tables: z.array(sourceTableShape),
            meta: z.record(z.string(), z.unknown()).optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

/** Property keys of dbt that change results and that dpm does not implement: an error, never ignored. */
const DBT_ONLY_KEYS = new Set([
  'exposures',
  'metrics',
  'semantic_models',
  'saved_queries',
  'analyses',
  'macros',
  'groups',
  'versions',
  'latest_version',
  'constraints',
  'contract',
]);

/** Parses the text of the property file `relPath`; errors name the file and line. */
export function parseProperties(text: string, relPath: string): PropertiesFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new ProjectError(relPath, e.linePos?.[0].line, `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const lineOf = (path: (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as YamlNode | undefined;
      if (node?.range) return lines.linePos(node.range[0]).line;
    }
    return 1;
  };
  const parsed = fileShape.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path as (string | number)[];
    const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    if (key && DBT_ONLY_KEYS.has(key)) {
      throw new ProjectError(relPath, lineOf([...path, key]), `dbt's '${key}:' is not supported by dpm`);
    }
    const where = key ? `unknown key '${key}'` : issue.message;
    throw new ProjectError(relPath, lineOf(path), `${path.join('.') || '(file)'}: ${where}`);
  }
  const data = parsed.data;

  const resource = (r: z.infer<typeof resourceShape>, path: (string | number)[]): ResourceSpec => ({
    name: r.name,
    description: r.description,
    config: r.config ?? {},
    file: relPath,
    line: lineOf(path),
    columns: (r.columns ?? []).map((c, ci) => ({
      name: c.name,
      description: c.description,
      data_type: c.data_type,
      tests: testsOf(
        c.data_tests ?? c.tests ?? [],
        [...path, 'columns', ci, c.data_tests ? 'data_tests' : 'tests'],
        c.name,
      ),
    })),
    tests: testsOf(r.data_tests ?? r.tests ?? [], [...path, r.data_tests ? 'data_tests' : 'tests']),
  });

  const testsOf = (entries: z.infer<typeof testEntry>[], path: (string | number)[], column?: string): TestSpec[] =>
    entries.map((entry, i) => {
      const line = lineOf([...path, i]);
      if (typeof entry === 'string') return { testName: entry, args: {}, config: {}, column, file: relPath, line };
      const keys = Object.keys(entry);
      if (keys.length !== 1) {
        throw new ProjectError(
          relPath,
          line,
          `a test is one name or one "name: {arguments}" mapping, got keys ${keys.join(', ')}`,
        );
      }
      const testName = keys[0];
      const body = (entry[testName] ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) {
        throw new ProjectError(relPath, line, `test '${testName}' takes a mapping of arguments`);
      }
      const { config, arguments: nested, severity, where, name, ...rest } = body as Record<string, unknown>;
      if (name !== undefined && (typeof name !== 'string' || !/^[A-Za-z_][\w]*$/.test(name))) {
        throw new ProjectError(
          relPath,
          line,
          `test '${testName}': name must be an identifier, got ${JSON.stringify(name)}`,
        );
      }
      const cfg = { ...((config as Record<string, unknown>) ?? {}) };
      if (severity !== undefined) cfg.severity = severity;
      if (where !== undefined) cfg.where = where;
      return {
        testName,
        ...(name === undefined ? {} : { name: name as string }),
        args: { ...rest, ...((nested as Record<string, unknown>) ?? {}) },
        config: cfg,
        column,
        file: relPath,
        line,
      };
    });

  // The line of `key:` itself, where lineOf names the first line of its value.
  const keyLine = (path: (string | number)[], key: string): number => {
    const parent = doc.getIn(path, true);
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined;
    const range = isScalar(pair?.key) ? pair.key.range : undefined;
    return range ? lines.linePos(range[0]).line : lineOf([...path, key]);
  };
  const unitTest = (u: z.infer<typeof unitTestShape>, i: number): UnitTestSpec => {
    const fixture = (f: z.infer<typeof unitTestShape>['expect'], line: number): FixtureSpec => ({
      format: f.format,
      rows: f.rows,
      fixture: f.fixture,
      line,
    });
    const tags = u.config?.tags;
    return {
      name: u.name,
      model: u.model,
      description: u.description,
      given: u.given.map((g, gi) => ({ input: g.input, ...fixture(g, lineOf(['unit_tests', i, 'given', gi])) })),
      expect: fixture(u.expect, keyLine(['unit_tests', i], 'expect')),
      overrides: {
        vars: u.overrides?.vars ?? {},
        macros: u.overrides?.macros ?? {},
        envVars: u.overrides?.env_vars ?? {},
      },
      config: { ...u.config, tags: tags === undefined ? [] : Array.isArray(tags) ? tags : [tags] },
      file: relPath,
      line: lineOf(['unit_tests', i]),
    };
  };

  return {
    unitTests: (data.unit_tests ?? []).map(unitTest),
    models: (data.models ?? []).map((m, i) => resource(m, ['models', i])),
    seeds: (data.seeds ?? []).map((s, i) => resource(s, ['seeds', i])),
    snapshots: (data.snapshots ?? []).map((s, i) => ({ ...resource(s, ['snapshots', i]), relation: s.relation })),
    sources: (data.sources ?? []).map((s, i) => ({
      name: s.name,
      schema: s.schema ?? s.name,
      description: s.description,
      loadedAtField: s.loaded_at_field,
      freshness: s.freshness,
      file: relPath,
      line: lineOf(['sources', i]),
      tables: s.tables.map((t, ti) => ({
        ...resource(t, ['sources', i, 'tables', ti]),
        // A table's own settings win over its source's; `freshness: null` turns the source's rule off.
        loadedAtField: t.loaded_at_field ?? s.loaded_at_field,
        freshness: t.freshness === undefined ? s.freshness : t.freshness,
      })),
    })),
  };
}
