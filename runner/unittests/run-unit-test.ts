// Runs one unit test as dbt does: the given rows, cast to the column types their relations have in the database,
// stand in for the model's inputs; the model's SQL runs on them and its rows are compared with the expected ones.
import type { Knex } from 'knex';
import { runVerbatim } from '../db/pg-connection.ts';
import { ProjectError, didYouMean } from '../errors.ts';
import { compileNode, type CompileContext, type RenderInputs } from '../project/compile.ts';
import type { Fixture, GraphNode, ModelNode, SeedNode, UnitTestInput, UnitTestNode } from '../project/nodes.ts';
import { quoteIdent, quoteLiteral, Relation } from '../project/templating.ts';
import { parseSeed } from '../seeds/load-seed.ts';
import { formatDiff } from './diff.ts';
import { castSelect, type Column, comparisonSql, rowsSelect, withGiven } from './unit-sql.ts';

export interface UnitTestOutcome {
  status: 'pass' | 'fail';
  failures: number;
  /** The comparison query, for target/compiled/. */
  sql: string;
  /** `pass`, or where the test is and the differing rows as a table. */
  message: string;
}

interface Given {
  input: UnitTestInput;
  cte: string;
  sql: string;
}

/** One unit test's run: the test, its model, and where its problems are reported. */
interface Run {
  knex: Knex;
  test: UnitTestNode;
  model: ModelNode;
  ctx: CompileContext;
  fail: (problem: string) => Error;
}

export async function runUnitTest(knex: Knex, test: UnitTestNode, ctx: CompileContext): Promise<UnitTestOutcome> {
  const model = ctx.project.nodes.get(test.model) as ModelNode;
  const fail = (problem: string) => new ProjectError(test.path, test.line, `unit test '${test.name}': ${problem}`);
  const run: Run = { knex, test, model, ctx, fail };
  const given: Given[] = [];
  // `this` comes last: before the model's first build, its columns are those of its query on the other inputs.
  const ordered = [...test.given].sort((a, b) => Number(a.input === 'this') - Number(b.input === 'this'));
  for (const input of ordered) {
    const name = input.input === 'this' ? 'this' : input.target.split('.').slice(2).join('__');
    given.push({ input, cte: quoteIdent(`__dpm_given__${name}`), sql: await givenSql(run, input, given) });
  }
  const modelSql = renderModel(run, given, overriddenGlobals(test));
  const actual = await describe(knex, withGiven(given, modelSql));
  const compared = await comparedColumns(knex, test.expect, actual, fail);
  const expected =
    test.expect.kind === 'sql' ? castSelect(test.expect.sql, compared) : rowsSelect(rowsOf(test.expect), compared);
  const sql = comparisonSql(given, modelSql, compared, expected);
  const { rows } = await runVerbatim(knex, sql);
  if (!rows.length) return { status: 'pass', failures: 0, sql, message: 'pass' };
  const diff = formatDiff(
    compared.map((c) => c.name),
    rows.map((r) => ({
      cells: compared.map((_, i) => r[`__dpm_c${i}`] as string | null),
      actual: Number(r.__dpm_actual),
      expected: Number(r.__dpm_expected),
    })),
  );
  const message = `${test.path}:${test.line}: unit test '${test.name}' of model '${model.name}' failed: ${diff.text}`;
  return { status: 'fail', failures: diff.failures, sql, message };
}

/** The model's SQL reading the given CTEs. As in dbt, is_incremental() is false unless overrides: macros: sets it. */
function renderModel({ test, model, ctx, fail }: Run, given: Given[], globals: Record<string, unknown>): string {
  const { project } = ctx;
  const cteOf = (id: string) => given.find((g) => g.input.target === id)?.cte;
  const inputs: RenderInputs = {
    ref: (name) => {
      const node = [...project.nodes.values()].find((n) => n.name === name && 'relation' in n) as ModelNode;
      if (!node) throw fail(`the model reads ref('${name}'), which names no model or seed.`);
      return standIn(node.relation, cteOf(node.uniqueId), `ref('${name}')`, fail);
    },
    source: (s, t) => {
      const table = project.sources.get(`${s}.${t}`)!;
      return standIn(table.relation, cteOf(table.uniqueId), `source('${s}', '${t}')`, fail);
    },
    self: standIn(model.relation, cteOf(model.uniqueId), 'this', fail),
    vars: test.overrides.vars,
    globals,
  };
  return compileNode(model, { ...ctx, existing: new Map(), fullRefresh: false, batch: undefined, inputs });
}

/** A given input as a select of every column of its relation, in order, cast to their types. */
async function givenSql(run: Run, input: UnitTestInput, given: Given[]): Promise<string> {
  if (input.fixture.kind === 'sql') return input.fixture.sql;
  const node = run.ctx.project.nodes.get(input.target);
  const columns = await describe(run.knex, await inputRelation(run, input, node, given));
  const fixture =
    input.fixture.kind === 'seed' ? seedRows(run.ctx.project.config.root, node as SeedNode) : input.fixture;
  for (const name of fixture.columns) {
    if (!columns.some((c) => c.name.toLowerCase() === name.toLowerCase())) {
      const names = columns.map((c) => c.name);
      throw run.fail(
        `given ${input.input} (line ${input.line}) has a column '${name}' that its relation does not have.` +
          `${didYouMean(name, names)} Its columns: ${names.join(', ')}.`,
      );
    }
  }
  return rowsSelect(fixture, columns);
}

/** The SQL whose columns the input's rows take: its relation, which must exist (dbt reads it from the database). */
async function inputRelation(run: Run, input: UnitTestInput, node: GraphNode | undefined, given: Given[]) {
  const { ctx, knex } = run;
  if (node?.resourceType === 'model' && node.config.materialized === 'ephemeral') return compileNode(node, ctx);
  const relation =
    node && 'relation' in node
      ? node.relation
      : [...ctx.project.sources.values()].find((s) => s.uniqueId === input.target)!.relation;
  const { rows } = await runVerbatim(knex, `select to_regclass(${quoteLiteral(String(relation))}) is not null as ok`);
  if (rows[0].ok) return `select * from ${relation}`;
  if (input.input === 'this') {
    const { is_incremental: _, ...globals } = overriddenGlobals(run.test);
    return withGiven(given, renderModel(run, given, globals));
  }
  const first =
    node?.resourceType === 'seed'
      ? `dpm seed -s ${node.name}`
      : node
        ? `dpm build -s +${node.name}`
        : 'load the source table';
  throw run.fail(
    `given ${input.input} stands in for ${relation}, which does not exist in the database yet. Like dbt, dpm ` +
      `takes the given rows' column types from the input's relation: build it first (${first}), then run the test.`,
  );
}

function seedRows(root: string, seed: SeedNode): Extract<Fixture, { kind: 'rows' }> {
  const parsed = parseSeed(root, seed);
  return { kind: 'rows', columns: parsed.columns.map((c) => c.name), rows: parsed.rows };
}

function rowsOf(fixture: Fixture): Extract<Fixture, { kind: 'rows' }> {
  if (fixture.kind !== 'rows') throw new Error(`expected rows, got a ${fixture.kind} fixture`);
  return fixture;
}

/** The model's columns that expect: lists (all of them when it lists none), as dbt compares only those. */
async function comparedColumns(
  knex: Knex,
  expect: Fixture,
  actual: Column[],
  fail: (problem: string) => Error,
): Promise<Column[]> {
  const listed = expect.kind === 'sql' ? (await describe(knex, expect.sql)).map((c) => c.name) : rowsOf(expect).columns;
  if (!listed.length) return actual;
  return listed.map((name) => {
    const column = actual.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!column) {
      const names = actual.map((c) => c.name);
      throw fail(
        `expect has a column '${name}' that the model does not return.${didYouMean(name, names)} ` +
          `The model returns: ${names.join(', ')}.`,
      );
    }
    return column;
  });
}

/** The relation a ref()/source()/this renders as: the given CTE, keeping the relation's schema and name. */
function standIn(
  relation: Relation,
  cte: string | undefined,
  call: string,
  fail: (problem: string) => Error,
): Relation {
  if (cte) return new Relation(relation.schema, relation.identifier, cte);
  return new UngivenRelation(
    relation,
    fail(
      `the model reads ${call}, which given: does not stand in for (it is read only with is_incremental() true, ` +
        `or by a macro). Add "- input: ${call}" with rows.`,
    ),
  );
}

/** An input the test did not give: its schema and name may be read, but printing it into the SQL is an error. */
class UngivenRelation extends Relation {
  constructor(
    relation: Relation,
    private readonly problem: Error,
  ) {
    super(relation.schema, relation.identifier);
  }
  override toString(): string {
    throw this.problem;
  }
}

/**
 * overrides: macros: a name the template calls (`is_incremental()`) or prints (`invocation_id`) gives the value;
 * env_vars: env_var() reads them first.
 */
function overriddenGlobals(test: UnitTestNode): Record<string, unknown> {
  const globals: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(test.overrides.macros)) {
    globals[name] = Object.assign(() => value, { toString: () => String(value), valueOf: () => value });
  }
  const envVars = test.overrides.envVars;
  if (Object.keys(envVars).length) {
    globals.env_var = (name: string, fallback?: string) => {
      const value = envVars[name] ?? process.env[name] ?? fallback;
      if (value === undefined) throw new Error(`env_var('${name}') is not set and has no default`);
      return value;
    };
  }
  return globals;
}

/** The columns a query returns and their types; varchar(n) loses its length, so that no given value is cut. */
async function describe(knex: Knex, sql: string): Promise<Column[]> {
  const { fields } = await runVerbatim(knex, `select * from (\n${sql}\n) as dpm_describe limit 0`);
  if (!fields.length) return [];
  const values = fields.map((f, i) => `(${i}, ${f.dataTypeID}, ${f.dataTypeModifier})`).join(', ');
  const { rows } = await runVerbatim(
    knex,
    `select format_type(t.oid::oid, t.mod::int) as type from (values ${values}) as t(i, oid, mod) order by t.i`,
  );
  return fields.map((f, i) => ({
    name: f.name,
    type: String(rows[i].type).replace(/^character varying\(\d+\)/, 'character varying'),
  }));
}
