// Offset pagination over records grouped by day. Without a record filter, totals come from cheap per-day
// counts and only the days a page touches are materialised, so skip=N on millions of trades stays cheap.

export interface DayRows<T> {
  items: readonly T[];
  json: readonly string[];
}

export interface DaySource<T> {
  days: readonly number[];
  /** Row count of a day when no filter applies (must equal rows(day).items.length). */
  count(day: number): number;
  rows(day: number): DayRows<T>;
}

export interface Page<T> {
  items: T[];
  json: string[];
  total: number;
}

/** With a filter, the total needs every day of the range; `needTotal` false stops once the page is full. */
export function paginate<T>(
  src: DaySource<T>,
  skip: number,
  limit: number,
  keep?: (item: T) => boolean,
  needTotal = true,
): Page<T> {
  const items: T[] = [];
  const json: string[] = [];
  let seen = 0;
  for (const day of src.days) {
    if (!keep) {
      const n = src.count(day);
      if (items.length < limit && seen + n > skip) take(src.rows(day), Math.max(0, skip - seen), n);
      seen += n;
      continue;
    }
    if (!needTotal && items.length >= limit) break;
    const rows = src.rows(day);
    for (let i = 0; i < rows.items.length; i++) {
      if (!keep(rows.items[i])) continue;
      if (seen >= skip && items.length < limit) {
        items.push(rows.items[i]);
        json.push(rows.json[i]);
      }
      seen++;
    }
  }
  return { items, json, total: seen };

  function take(rows: DayRows<T>, from: number, n: number): void {
    for (let i = from; i < n && items.length < limit; i++) {
      items.push(rows.items[i]);
      json.push(rows.json[i]);
    }
  }
}

/** A day's records as one JSON text (records joined by ','); record i is buf[offs[i], offs[i + 1] - 1). */
export interface DayBytes {
  count: number;
  buf: Buffer;
  offs: Uint32Array;
}

export interface ByteSource {
  days: readonly number[];
  count(day: number): number;
  bytes(day: number): DayBytes;
}

export interface BytePage {
  /** Contiguous runs of records, to be joined by ','. */
  parts: Buffer[];
  count: number;
  total: number;
  /** Position in `days` of the last day the page reached (-1 when empty). */
  lastDayIndex: number;
  /** The page's records as separate JSON strings (for the paths that rewrite records). */
  records(): string[];
}

/** Unfiltered offset pagination over byte days: a page is a few slices of each day's text, nothing is copied. */
export function paginateBytes(src: ByteSource, skip: number, limit: number): BytePage {
  const runs: { rows: DayBytes; from: number; to: number }[] = [];
  let seen = 0;
  let count = 0;
  let lastDayIndex = -1;
  for (let k = 0; k < src.days.length; k++) {
    const day = src.days[k];
    const n = src.count(day);
    // An empty day adds no run: its empty slice would put two commas in a row.
    if (n > 0 && count < limit && seen + n > skip) {
      const rows = src.bytes(day);
      const from = Math.max(0, skip - seen);
      const to = Math.min(n, from + limit - count);
      runs.push({ rows, from, to });
      count += to - from;
      lastDayIndex = k;
    }
    seen += n;
  }
  return {
    parts: runs.map((r) => r.rows.buf.subarray(r.rows.offs[r.from], r.rows.offs[r.to] - 1)),
    count,
    total: seen,
    lastDayIndex,
    records: () =>
      runs.flatMap((r) =>
        Array.from({ length: r.to - r.from }, (_, i) =>
          r.rows.buf.toString('utf8', r.rows.offs[r.from + i], r.rows.offs[r.from + i + 1] - 1),
        ),
      ),
  };
}
