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
export function paginate<T>(src: DaySource<T>, skip: number, limit: number, keep?: (item: T) => boolean, needTotal = true): Page<T> {
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
