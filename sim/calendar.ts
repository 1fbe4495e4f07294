// Trading days are UTC calendar days counted from the firm's start date.
const DAY_MS = 86_400_000;

export function parseStartDate(s: string): number {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(s);
  if (!m) throw new Error(`start date "${s}" is not YYYY-MM-DD or YYYYMMDD`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(ms)) throw new Error(`start date "${s}" is not a calendar date`);
  return ms;
}

export class Calendar {
  private readonly isoCache: string[] = [];

  constructor(
    readonly startMs: number,
    readonly days: number,
  ) {}

  dayMs(day: number): number {
    return this.startMs + day * DAY_MS;
  }

  /** 2025-02-13T00:00:00.000Z */
  iso(day: number): string {
    this.isoCache[day] ??= new Date(this.dayMs(day)).toISOString();
    return this.isoCache[day];
  }

  /** 20250213 */
  ymd(day: number): string {
    return this.iso(day).slice(0, 10).replace(/-/g, '');
  }

  /** Monday = 0 ... Sunday = 6, the convention of the feature catalogue. */
  weekday(day: number): number {
    return (new Date(this.dayMs(day)).getUTCDay() + 6) % 7;
  }

  isWeekend(day: number): boolean {
    return this.weekday(day) >= 5;
  }

  /** Day index of a YYYYMMDD or ISO date, or undefined when outside the firm's history. */
  dayOf(s: string): number | undefined {
    const m = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(s.trim());
    if (!m) return undefined;
    const d = (Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - this.startMs) / DAY_MS;
    return Number.isInteger(d) && d >= 0 && d < this.days ? d : undefined;
  }
}

export const DAY = DAY_MS;
