import nunjucks from 'nunjucks';
import { ProjectError, TemplateError } from '../errors.ts';
import {
  DoExtension,
  type GenericTestMacro,
  installDbtJinja,
  ReturnSignal,
  rewriteTestBlocks,
} from './jinja-extensions.ts';
import { loadResult, type QueryTable } from './query-table.ts';

/** A database object as templates see it: prints as the quoted name, exposes its parts. */
export class Relation {
  constructor(
    readonly schema: string,
    readonly identifier: string,
    /** Ephemeral models print as the CTE name that compile() injects. */
    readonly cte?: string,
  ) {}
  get name(): string {
    return this.identifier;
  }
  toString(): string {
    return this.cte ?? `${quoteIdent(this.schema)}.${quoteIdent(this.identifier)}`;
  }
}

/** A SQL string literal, for statements (COMMENT ON, ...) that take no bind parameters. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** What the globals (ref, source, config, ...) do while one template renders; set before each render. */
export interface RenderHooks {
  ref(name: string): Relation;
  source(sourceName: string, table: string): Relation;
  config(kwargs: Record<string, unknown>): void;
  variable(name: string, fallback: unknown, hasFallback: boolean): unknown;
  isIncremental(): boolean;
  self(): Relation | undefined;
  /** run_query() and statement(): the result. Absent while the project is parsed (`execute` false): None, as dbt. */
  runQuery?(sql: string): QueryTable;
  /** log(): a message of the template, at info level when `info`, else at debug level. */
  log?(message: string, info: boolean): void;
  extra: Record<string, unknown>;
}

/** One render in progress: its hooks and the results its statement() calls stored for load_result(). */
interface RenderState {
  hooks: RenderHooks;
  statements: Map<string, { table: QueryTable; fetched: boolean }>;
}

/**
 * One nunjucks environment per project. Rendering is synchronous, so the globals read the hooks of
 * the template being rendered right now from `current`.
 */
export class TemplateEngine {
  readonly env: nunjucks.Environment;
  /** The project's own generic tests (`{% test %}` blocks of macro files), by test name. */
  readonly genericTests = new Map<string, GenericTestMacro>();
  private current: RenderState | undefined;

  constructor() {
    installDbtJinja();
    // dev: true keeps the original error as `cause`, so a ProjectError thrown by var()/ref() inside a
    // render surfaces as itself instead of being flattened into a generic render error.
    this.env = new nunjucks.Environment([], {
      autoescape: false,
      throwOnUndefined: false,
      trimBlocks: false,
      dev: true,
    });
    this.env.addExtension('do', new DoExtension());
    const state = () => {
      if (!this.current) throw new Error('template function called outside a render');
      return this.current;
    };
    const hooks = () => state().hooks;
    const args = (raw: unknown[]) => {
      const last = raw[raw.length - 1] as Record<string, unknown> | undefined;
      const kw = last && typeof last === 'object' && (last as { __keywords?: boolean }).__keywords ? last : undefined;
      return { positional: kw ? raw.slice(0, -1) : raw, kw: kw ? stripKeywords(kw) : {} };
    };
    this.env.addGlobal('True', true);
    this.env.addGlobal('False', false);
    this.env.addGlobal('None', null);
    this.env.addGlobal('ref', (...raw: unknown[]) => {
      const { positional } = args(raw);
      return hooks().ref(String(positional[positional.length - 1]));
    });
    this.env.addGlobal('source', (s: string, t: string) => hooks().source(s, t));
    this.env.addGlobal('config', (...raw: unknown[]) => {
      const { positional, kw } = args(raw);
      const fromDict =
        positional[0] && typeof positional[0] === 'object' ? (positional[0] as Record<string, unknown>) : {};
      hooks().config({ ...fromDict, ...kw });
      return '';
    });
    this.env.addGlobal('var', (...raw: unknown[]) => {
      const { positional, kw } = args(raw);
      const hasFallback = positional.length > 1 || 'default' in kw;
      return hooks().variable(String(positional[0]), positional.length > 1 ? positional[1] : kw.default, hasFallback);
    });
    this.env.addGlobal('env_var', (name: string, fallback?: string) => {
      const value = process.env[name] ?? fallback;
      if (value === undefined) throw new Error(`env_var('${name}') is not set and has no default`);
      return value;
    });
    this.env.addGlobal('is_incremental', () => hooks().isIncremental());
    this.addDbtGlobals(state, args);
    this.env.addGlobal('this', {
      toString: () => String(hooks().self() ?? ''),
      get schema() {
        return hooks().self()?.schema;
      },
      get identifier() {
        return hooks().self()?.identifier;
      },
      get name() {
        return hooks().self()?.identifier;
      },
    });
    const perRender = [
      'batch_start',
      'batch_end',
      'batch_days',
      'run_started_at',
      'invocation_id',
      'target_name',
      'target',
      'execute',
    ];
    for (const name of perRender) {
      Object.defineProperty((this.env as unknown as { globals: object }).globals, name, {
        get: () => this.current?.hooks.extra[name],
        enumerable: true,
        configurable: true,
      });
    }
  }

  /** Compiles a template eagerly so syntax errors surface at load time with file:line. */
  compile(source: string, path: string): nunjucks.Template {
    try {
      return new nunjucks.Template(source, this.env, path, true);
    } catch (err) {
      throw templateError(err as Error, path, source);
    }
  }

  render(
    template: nunjucks.Template,
    path: string,
    source: string,
    hooks: RenderHooks,
    context: Record<string, unknown> = {},
  ): string {
    const previous = this.current;
    this.current = { hooks, statements: new Map() };
    try {
      return template.render(context);
    } catch (err) {
      if (err instanceof ProjectError) throw err;
      const inner = (err as { cause?: unknown }).cause;
      if (inner instanceof ProjectError) throw inner;
      throw templateError(err as Error, path, source);
    } finally {
      this.current = previous;
    }
  }

  /** run_query(), statement()/load_result(), log(), return() and adapter.dispatch(), as dbt's templates have them. */
  private addDbtGlobals(
    state: () => RenderState,
    args: (raw: unknown[]) => { positional: unknown[]; kw: Record<string, unknown> },
  ): void {
    const query = (sql: string): QueryTable | null => {
      const { runQuery, extra } = state().hooks;
      if (runQuery) return runQuery(sql);
      if (extra.execute === false) return null;
      throw new Error(
        'run_query() and statement() cannot query the database in a pre_hook or post_hook: ' +
          'dpm runs them while it compiles a model, a test or a run-operation macro; move the query there',
      );
    };
    this.env.addGlobal('run_query', (sql: unknown) => query(String(sql)));
    this.env.addGlobal('statement', (...raw: unknown[]) => {
      const { positional, kw } = args(raw);
      if (typeof kw.caller !== 'function') {
        throw new Error(
          "statement() takes its SQL as a call block: {% call statement('name', fetch_result=True) %}" +
            'select ...{% endcall %}',
        );
      }
      const table = query(String(kw.caller()).trim());
      const name = positional[0] ?? kw.name;
      const fetched = Boolean(positional[1] ?? kw.fetch_result);
      if (table && name != null) state().statements.set(String(name), { table, fetched });
      return '';
    });
    this.env.addGlobal('load_result', (name: unknown) => {
      const stored = state().statements.get(String(name));
      return stored ? loadResult(stored.table, stored.fetched) : null;
    });
    this.env.addGlobal('log', (...raw: unknown[]) => {
      const { positional, kw } = args(raw);
      state().hooks.log?.(String(positional[0]), Boolean(positional[1] ?? kw.info));
      return '';
    });
    this.env.addGlobal('return', (value: unknown) => {
      throw new ReturnSignal(value);
    });
    const globals = (this.env as unknown as { globals: Record<string, unknown> }).globals;
    this.env.addGlobal('adapter', {
      // dbt's search order on PostgreSQL: the adapter's own implementation, then the default one.
      dispatch: (name: string) => {
        const found = [`postgres__${name}`, `default__${name}`].find((m) => typeof globals[m] === 'function');
        if (!found) {
          throw new Error(
            `adapter.dispatch('${name}') found no macro postgres__${name} or default__${name}: ` +
              `define one of them in macros/*.sql`,
          );
        }
        return globals[found];
      },
    });
  }

  /**
   * Loads a macro file: its macros become globals callable from every model, test and other macro; its
   * `{% test %}` blocks become the project's generic tests.
   */
  addMacros(text: string, path: string): string[] {
    const { source, tests } = rewriteTestBlocks(text, path);
    const template = this.compile(source, path);
    let exported: Record<string, unknown> = {};
    (template as unknown as ExportingTemplate).getExported({}, null, (err, exp) => {
      if (err) throw templateError(err, path, source);
      exported = exp;
    });
    for (const [name, fn] of Object.entries(exported)) this.env.addGlobal(name, fn);
    for (const test of tests) this.genericTests.set(test.name, test);
    return Object.keys(exported);
  }
}

// Missing from @types/nunjucks, present in nunjucks 3.
interface ExportingTemplate {
  getExported(ctx: object, parentFrame: null, cb: (err: Error | null, exported: Record<string, unknown>) => void): void;
}

function stripKeywords(kw: Record<string, unknown>): Record<string, unknown> {
  const { __keywords: _ignored, ...rest } = kw;
  return rest;
}

/** dbt's Jinja functions that dpm's templates do not have, and what to do instead. */
const DBT_ONLY_FUNCTIONS = new Map([
  ['adapter.get_relation', 'query information_schema.tables with run_query() instead'],
  ['adapter.get_columns_in_relation', 'query information_schema.columns with run_query() instead'],
]);
const DBT_ONLY_TAGS = new Map([
  ['materialization', 'use the materializations dpm ships (view, table, incremental, ephemeral)'],
]);

/**
 * Turns nunjucks' "(path) [Line 3, Column 5]\n message" into file:line. Its runtime line numbers
 * can be off, so an error about a named function or variable is pinned to the line that names it.
 */
export function templateError(err: Error, path: string, source: string): TemplateError {
  const raw = err.message ?? String(err);
  const m = /\[Line (\d+), Column (\d+)\]\s*([\s\S]*)$/.exec(raw);
  let message = (m ? m[3] : raw).replace(/^\s*(Template render error:\s*)?(Error:\s*)?/, '').trim();
  message = message.replace(/^\([^)]*\)\s*/, '').replace(/^Error:\s*/, '');
  let line = m ? Number(m[1]) + (raw.includes('unexpected') || raw.includes('expected') ? 0 : 0) : undefined;
  // nunjucks reports no position when the parser runs out of input (an unclosed tag or block).
  if (!m && /end of file|expected/.test(message)) line = source.trimEnd().split('\n').length;
  const named = /`([A-Za-z_][\w.]*)`/.exec(message) ?? /'([A-Za-z_][\w.]*)'/.exec(message);
  if (named) {
    const idx = source.split('\n').findIndex((l) => l.includes(named[1]));
    if (idx >= 0) line = idx + 1;
  }
  // dpm's own messages start with the function that failed (`run_query() needs ...`): the line that calls it.
  const failed = /^(\w+)\(\)/.exec(message)?.[1];
  if (failed && !line) {
    const idx = source.split('\n').findIndex((l) => l.includes(`${failed}(`));
    if (idx >= 0) line = idx + 1;
  }
  const called = /Unable to call `([^`]+)`, which is undefined/.exec(message)?.[1];
  const tag = /unknown block tag: (\w+)/.exec(message)?.[1];
  const dbtName = called?.replace(/\["(\w+)"\]/g, '.$1');
  if (dbtName && DBT_ONLY_FUNCTIONS.has(dbtName)) {
    message = `dbt's ${dbtName}() is not supported by dpm: ${DBT_ONLY_FUNCTIONS.get(dbtName)}`;
    const idx = source.split('\n').findIndex((l) => l.includes(dbtName));
    if (idx >= 0) line = idx + 1;
  } else if (tag && DBT_ONLY_TAGS.has(tag)) {
    message = `dbt's {% ${tag} %} is not supported by dpm: ${DBT_ONLY_TAGS.get(tag)}`;
  } else if (tag === 'test') {
    message = 'a {% test %} block defines a generic test: put it in a .sql file under macros/ or tests/generic/';
  } else if (called) {
    message = message.replace(
      /Unable to call `([^`]+)`, which is undefined or falsey/,
      "'$1' is not a macro or function: define it in macros/*.sql or fix the name",
    );
  }
  return new TemplateError(path, line, message, m && !named ? Number(m[2]) : undefined);
}
