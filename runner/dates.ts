/** Calendar arithmetic on ISO days (YYYY-MM-DD, UTC): the trading-day keys of every table. */
export function addDays(iso: string, n: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
