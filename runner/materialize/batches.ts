export interface DateWindow {
  /** Inclusive start date YYYY-MM-DD. */
  start: string;
  /** Exclusive end date YYYY-MM-DD. */
  end: string;
}

const day = (iso: string) => new Date(`${iso}T00:00:00Z`);
const iso = (d: Date) => d.toISOString().slice(0, 10);

function floorTo(d: Date, size: 'day' | 'week' | 'month'): Date {
  const out = new Date(d);
  if (size === 'week') out.setUTCDate(out.getUTCDate() - ((out.getUTCDay() + 6) % 7));
  if (size === 'month') out.setUTCDate(1);
  return out;
}

function step(d: Date, size: 'day' | 'week' | 'month', n: number): Date {
  const out = new Date(d);
  if (size === 'day') out.setUTCDate(out.getUTCDate() + n);
  if (size === 'week') out.setUTCDate(out.getUTCDate() + 7 * n);
  if (size === 'month') out.setUTCMonth(out.getUTCMonth() + n);
  return out;
}

/**
 * The half-open batches covering [start, end), aligned to the batch size; `lookback` extra batches
 * before start are reprocessed so late-arriving rows are picked up.
 */
export function batchWindows(
  start: string,
  end: string,
  size: 'day' | 'week' | 'month',
  lookback: number,
): DateWindow[] {
  const windows: DateWindow[] = [];
  let cursor = step(floorTo(day(start), size), size, -lookback);
  const stop = day(end);
  while (cursor < stop) {
    const next = step(cursor, size, 1);
    windows.push({ start: iso(cursor), end: iso(new Date(Math.min(next.getTime(), stop.getTime()))) });
    cursor = next;
  }
  return windows;
}
