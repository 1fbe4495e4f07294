import { DpmError, ModelRunError, TemplateError, UsageError, didYouMean } from '../errors.ts';
import { type CompileContext, queryOf, runGlobals } from './compile.ts';
import { readVar } from './load.ts';
import { QueryReplay, type TemplateQueries } from './query-replay.ts';
import type { Relation } from './templating.ts';

/**
 * dbt's run-operation: calls a project macro with `args` as keyword arguments while the database is at hand, so its
 * run_query() and statement() calls run (DDL included) and its log() lines print. Returns what the macro rendered.
 */
export async function runOperation(
  ctx: CompileContext,
  macro: string,
  args: Record<string, unknown>,
  queries: TemplateQueries,
): Promise<string> {
  const { project } = ctx;
  if (!project.macros.includes(macro)) {
    throw new UsageError(
      `run-operation: the project has no macro '${macro}'.${didYouMean(macro, project.macros)} ` +
        'Define it with {% macro ' +
        `${macro}(...) %} in a .sql file under ${project.config['macro-paths'].join(', ')}/.`,
    );
  }
  const bad = Object.keys(args).find((k) => !/^[A-Za-z_]\w*$/.test(k));
  if (bad) throw new UsageError(`--args: '${bad}' cannot be an argument of a macro (letters, digits and _ only).`);
  const source = `{{ ${macro}(${Object.keys(args)
    .map((k) => `${k}=__dpm_args["${k}"]`)
    .join(', ')}) }}`;
  const where = `run-operation ${macro}`;
  const template = project.engine.compile(source, where);
  const opCtx = { ...ctx, queries: new QueryReplay() };
  const relation = (found: { relation: Relation } | undefined, what: string): Relation => {
    if (!found) throw new Error(`${what} names nothing in the project`);
    return found.relation;
  };
  try {
    return await opCtx.queries.render(
      where,
      () =>
        project.engine.render(
          template,
          where,
          source,
          {
            ref: (name) =>
              relation(
                [...project.nodes.values()].find((n) => n.name === name && 'relation' in n) as
                  | { relation: Relation }
                  | undefined,
                `ref('${name}')`,
              ),
            source: (s, t) => relation(project.sources.get(`${s}.${t}`), `source('${s}', '${t}')`),
            config: () => undefined,
            variable: (n, fallback, has) => readVar(project.vars, n, fallback, has, where, source),
            isIncremental: () => false,
            self: () => undefined,
            runQuery: (sql) => queryOf(opCtx, sql),
            log: (message, info) => opCtx.queries.log(message, info),
            extra: runGlobals(opCtx),
          },
          { __dpm_args: args },
        ),
      queries,
    );
  } catch (err) {
    // The macro ran and failed (dbt: exit 1), unlike a project that does not load (exit 2).
    if (err instanceof TemplateError) throw new ModelRunError(`${where} failed: ${err.message}`);
    if (err instanceof DpmError) throw err;
    throw new ModelRunError(`${where} failed: ${(err as Error).message}`);
  }
}
