// Number and text formatting of the report: one place decides how money, shares and dates look, so every
// table and chart label agrees.

export { escapeHtml } from '../../runner/docs/html.ts';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Thousands separators; a true minus sign so negative figures line up in tabular numerals. */
export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (!isNum(value)) return '—';
  const s = Math.abs(value).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return value < 0 && s.replace(/[0.,]/g, '') !== '' ? `\u2212${s}` : s;
}

/** $1,234 (no cents above $1,000: risk managers read magnitudes, not pennies). */
export function formatMoney(value: number | null | undefined): string {
  if (!isNum(value)) return '—';
  const digits = Math.abs(value) >= 1000 ? 0 : 2;
  const body = Math.abs(value).toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return value < 0 && body.replace(/[0.,]/g, '') !== '' ? `\u2212$${body}` : `$${body}`;
}

/** Compact axis labels: $1.2k, $3.4M. */
export function formatMoneyShort(value: number): string {
  if (!isNum(value)) return '';
  const a = Math.abs(value);
  const sign = value < 0 ? '\u2212' : '';
  if (a >= 1e6) return `${sign}$${trim(a / 1e6)}M`;
  if (a >= 1e3) return `${sign}$${trim(a / 1e3)}k`;
  return `${sign}$${trim(a)}`;
}

const trim = (v: number) =>
  v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1).replace(/\.0$/, '') : v.toFixed(2).replace(/\.?0+$/, '');

/** 0.4123 -> 41.2% */
export function formatPct(share: number | null | undefined, digits = 1): string {
  return isNum(share) ? `${(share * 100).toFixed(digits)}%` : '—';
}

/** Signed relative change, e.g. MAE 12.3% lower than a baseline: -0.123 -> "12.3% lower". */
export function formatImprovement(model: number | null | undefined, baseline: number | null | undefined): string {
  if (!isNum(model) || !isNum(baseline) || baseline === 0) return '';
  const rel = (model - baseline) / Math.abs(baseline);
  if (Math.abs(rel) < 0.0005) return 'same';
  return `${(Math.abs(rel) * 100).toFixed(1)}% ${rel < 0 ? 'lower' : 'higher'}`;
}

/** Accepts the ISO date strings the driver returns and Date objects from other clients. */
export function isoDate(value: unknown): string {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value ?? '').slice(0, 10);
}
