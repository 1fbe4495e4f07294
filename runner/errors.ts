// One class per failure kind; every message says what was wrong, where, and what to do.
export class DpmError extends Error {
  /** CLI exit code: 1 = failed run, 2 = usage/configuration error. */
  readonly exitCode: number = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends DpmError {
  override readonly exitCode = 2;
}

export class ConfigError extends DpmError {
  override readonly exitCode = 2;
}

/** A problem in a project file: names file:line so editors can jump to it. */
export class ProjectError extends DpmError {
  override readonly exitCode = 2;
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    problem: string,
    readonly column?: number,
  ) {
    super(`${file}${line ? `:${line}` : ''}${column ? `:${column}` : ''}: ${problem}`);
  }
}

export class TemplateError extends ProjectError {}
export class UnknownRefError extends ProjectError {}
export class CycleError extends DpmError {
  override readonly exitCode = 2;
}
export class SelectorError extends UsageError {}
export class DatabaseError extends DpmError {}
export class ModelRunError extends DpmError {}
export class SeedError extends ProjectError {}
export class LockError extends DpmError {}

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = prev[j];
      prev[j] = next;
    }
  }
  return prev[b.length];
}

/** Up to three candidates close to `name`, best first, as a " Did you mean ...?" sentence (or ''). */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const scored = [...candidates]
    .map((c) => ({ c, d: distance(name.toLowerCase(), c.toLowerCase()) }))
    .filter(({ c, d }) => d <= Math.max(2, Math.floor(c.length / 3)) || c.includes(name) || name.includes(c))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, 3)
    .map(({ c }) => `'${c}'`);
  return scored.length ? ` Did you mean ${scored.join(' or ')}?` : '';
}

/**
 * knex prefixes driver errors with the whole SQL text ("<sql> - <message>"); keep the server's
 * message with its detail and hint, since the compiled SQL is on disk under target/. Statements run
 * verbatim (runner/db/pg-connection.ts) carry the server's message untouched.
 */
export function describeDbError(err: unknown): string {
  const e = err as Error & { code?: string; detail?: string; hint?: string; routine?: string; serverMessage?: string };
  if (!e || typeof e !== 'object' || !e.routine) return (e as Error)?.message ?? String(err);
  const sep = e.message.lastIndexOf(' - ');
  const core = e.serverMessage ?? (sep >= 0 ? e.message.slice(sep + 3) : e.message);
  return (
    `${core}${e.code ? ` [SQLSTATE ${e.code}]` : ''}` +
    `${e.detail ? `; ${e.detail}` : ''}${e.hint ? `; hint: ${e.hint}` : ''}`
  );
}
