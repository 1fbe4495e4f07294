import nunjucks from 'nunjucks';
import { ProjectError, TemplateError } from '../errors.ts';

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
  extra: Record<string, unknown>;
}

/**
 * One nunjucks environment per project. Rendering is synchronous, so the globals read the hooks of
 * the template being rendered right now from `current`.
 */
export class TemplateEngine {
  readonly env: nunjucks.Environment;
  private current: RenderHooks | undefined;

  constructor() {
    // dev: true keeps the original error as `cause`, so a ProjectError thrown by var()/ref() inside a
    // render surfaces as itself instead of being flattened into a generic render error.
    this.env = new nunjucks.Environment([], {
      autoescape: false,
      throwOnUndefined: false,
      trimBlocks: false,
      dev: true,
    });
    const hooks = () => {
      if (!this.current) throw new Error('template function called outside a render');
      return this.current;
    };
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
        get: () => this.current?.extra[name],
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
    this.current = hooks;
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

  /** Loads a macro file: its macros become globals callable from every model, test and other macro. */
  addMacros(source: string, path: string): string[] {
    const template = this.compile(source, path);
    let exported: Record<string, unknown> = {};
    (template as unknown as ExportingTemplate).getExported({}, null, (err, exp) => {
      if (err) throw templateError(err, path, source);
      exported = exp;
    });
    for (const [name, fn] of Object.entries(exported)) this.env.addGlobal(name, fn);
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

/**
 * Turns nunjucks' "(path) [Line 3, Column 5]\n message" into file:line. Its runtime line numbers
 * can be off, so an error about a named function or variable is pinned to the line that names it.
 */
/** dbt's Jinja functions that dpm's templates do not have, and what to do instead. */
const DBT_ONLY_FUNCTIONS = new Map([
  ['run_query', 'a model cannot query the database while it compiles; compute the value in SQL instead'],
  ['statement', 'a model cannot query the database while it compiles; compute the value in SQL instead'],
  ['load_result', 'a model cannot query the database while it compiles; compute the value in SQL instead'],
  ['log', 'dpm templates print nothing; write a SQL comment instead'],
  ['return', 'a dpm macro returns the text it renders'],
  ['adapter.dispatch', 'dpm has one adapter (PostgreSQL): call the postgres__ macro directly'],
]);
const DBT_ONLY_TAGS = new Map([
  ['do', 'set a variable with {% set %} instead'],
  ['test', 'use the generic tests dpm ships or a singular test in tests/data/*.sql'],
  ['snapshot', 'build the history as an incremental model'],
  ['materialization', 'use the materializations dpm ships (view, table, incremental, ephemeral)'],
]);

export function templateError(err: Error, path: string, source: string): TemplateError {
  const raw = err.message ?? String(err);
  const m = /\[Line (\d+), Column (\d+)\]\s*([\s\S]*)$/.exec(raw);
  let message = (m ? m[3] : raw).replace(/^\s*(Template render error:\s*)?(Error:\s*)?/, '').trim();
  message = message.replace(/^\([^)]*\)\s*/, '');
  let line = m ? Number(m[1]) + (raw.includes('unexpected') || raw.includes('expected') ? 0 : 0) : undefined;
  // nunjucks reports no position when the parser runs out of input (an unclosed tag or block).
  if (!m && /end of file|expected/.test(message)) line = source.trimEnd().split('\n').length;
  const named = /`([A-Za-z_][\w.]*)`/.exec(message) ?? /'([A-Za-z_][\w.]*)'/.exec(message);
  if (named) {
    const idx = source.split('\n').findIndex((l) => l.includes(named[1]));
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
  } else if (called) {
    message = message.replace(
      /Unable to call `([^`]+)`, which is undefined or falsey/,
      "'$1' is not a macro or function: define it in macros/*.sql or fix the name",
    );
  }
  return new TemplateError(path, line, message, m && !named ? Number(m[2]) : undefined);
}
