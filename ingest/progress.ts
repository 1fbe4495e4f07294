import { formatCount, type Logger } from '../runner/log.ts';

/** A one-line progress bar with records/s and ETA on a terminal; silent otherwise (the summary line logs). */
export class Progress {
  private total: number | undefined;
  private done = 0;
  private started = 0;
  private window = '';
  private lastDraw = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly log: Logger,
  ) {}

  start(window: string, total: number | undefined): void {
    this.window = window;
    this.total = total;
    this.done = 0;
    this.started = Date.now();
  }

  retotal(total: number): void {
    this.total = total;
  }

  advance(n: number): void {
    this.done += n;
    const now = Date.now();
    if (!this.tty || this.log.json || now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const secs = (now - this.started) / 1000;
    const rate = this.done / Math.max(secs, 0.001);
    const width = 24;
    const frac = this.total ? Math.min(1, this.done / this.total) : 0;
    const bar = this.total
      ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${(frac * 100).toFixed(0)}%`
      : '';
    const eta = this.total && rate > 0 ? ` ETA ${Math.max(0, (this.total - this.done) / rate).toFixed(0)}s` : '';
    process.stderr.write(
      `\r${this.label} ${this.window} ${bar} ${formatCount(this.done)}` +
        `${this.total ? `/${formatCount(this.total)}` : ''} ${formatCount(rate)} rec/s${eta}   `,
    );
  }

  stop(): void {
    if (this.tty && !this.log.json && this.lastDraw) process.stderr.write('\n');
    this.lastDraw = 0;
  }
}
