/** Converts one CSV cell to the text PostgreSQL's COPY accepts for a column type, or explains why not. */
export type Converter = (raw: string) => { ok: true; value: string } | { ok: false; expected: string };

const INT = /^[+-]?\d+$/;
const NUM = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOL = new Map([
  ['true', 't'],
  ['false', 'f'],
  ['t', 't'],
  ['f', 'f'],
  ['1', 't'],
  ['0', 'f'],
  ['yes', 't'],
  ['no', 'f'],
]);
const US_TS = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?$/;
const ISO_TS = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;
const COMPACT_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const INT4_MAX = 2_147_483_647;

const pad = (n: string) => n.padStart(2, '0');

function timestamp(raw: string, dayFirst: boolean): string | undefined {
  if (ISO_TS.test(raw)) return raw;
  const compact = COMPACT_DATE.exec(raw);
  if (compact) return `${compact[1]}-${compact[2]}-${compact[3]}`;
  const m = US_TS.exec(raw);
  if (!m) return undefined;
  const [month, dayOfMonth] = dayFirst ? [m[2], m[1]] : [m[1], m[2]];
  if (Number(month) > 12 || Number(dayOfMonth) > 31) return undefined;
  const date = `${m[3]}-${pad(month)}-${pad(dayOfMonth)}`;
  return m[4] ? `${date} ${pad(m[4])}:${m[5]}:${m[6] ?? '00'}${m[7] ?? ''}` : date;
}

export function converterFor(type: string, dayFirst: boolean): Converter {
  const t = type.toLowerCase();
  if (/^(small|big)?int(eger)?|^int[248]$|^(big)?serial$/.test(t)) {
    return (raw) =>
      INT.test(raw)
        ? { ok: true, value: raw }
        : NUM.test(raw) && Number(raw) % 1 === 0
          ? { ok: true, value: String(Number(raw)) }
          : { ok: false, expected: 'a whole number' };
  }
  if (/^(numeric|decimal|double precision|float[48]?|real)/.test(t)) {
    return (raw) => (NUM.test(raw) ? { ok: true, value: raw } : { ok: false, expected: 'a number' });
  }
  if (/^bool/.test(t)) {
    return (raw) => {
      const v = BOOL.get(raw.toLowerCase());
      return v ? { ok: true, value: v } : { ok: false, expected: 'a boolean (True/False, true/false, 1/0)' };
    };
  }
  if (/^(timestamp|date)/.test(t)) {
    return (raw) => {
      const v = timestamp(raw, dayFirst);
      return v
        ? { ok: true, value: v }
        : {
            ok: false,
            expected: `a ${t.startsWith('date') ? 'date' : 'timestamp'} (YYYY-MM-DD[ HH:MM:SS] or MM/DD/YYYY HH:MM:SS)`,
          };
    };
  }
  return (raw) => ({ ok: true, value: raw });
}

/**
 * The narrowest type every non-null value of a column fits, as dbt-postgres infers seed column types from agate:
 * whole numbers `integer`, other numbers `double precision` (dbt's float8), dates without a time `date`, the
 * rest of the dates `timestamp`. Whole numbers beyond 32 bits, which dbt's integer column would refuse, are `bigint`.
 */
export function inferType(values: Iterable<string>, dayFirst: boolean): string {
  let int = true;
  let wide = false;
  let num = true;
  let bool = true;
  let ts = true;
  let dateOnly = true;
  let any = false;
  for (const v of values) {
    any = true;
    if (int && !INT.test(v)) int = false;
    if (int && !wide && (Number(v) > INT4_MAX || Number(v) < -INT4_MAX - 1)) wide = true;
    if (num && !NUM.test(v)) num = false;
    if (bool && !['true', 'false'].includes(v.toLowerCase())) bool = false;
    if (ts) {
      const parsed = /[-/]/.test(v) ? timestamp(v, dayFirst) : undefined;
      if (parsed === undefined) ts = false;
      else if (dateOnly && !DATE_ONLY.test(parsed)) dateOnly = false;
    }
    if (!int && !num && !bool && !ts) return 'text';
  }
  if (!any) return 'text';
  if (bool) return 'boolean';
  if (int) return wide ? 'bigint' : 'integer';
  if (num) return 'double precision';
  if (ts) return dateOnly ? 'date' : 'timestamp';
  return 'text';
}

/** planId -> plan_id, UpgradePlanDescription -> upgrade_plan_description, maxWithdrawalPct0 -> max_withdrawal_pct0. */
export function snakeCase(name: string): string {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}
