import { createConsola, type ConsolaInstance } from 'consola';
import { redact } from './db/redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 3, debug: 4 };

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  readonly json: boolean;
}

/** Human lines through consola, or one JSON object per line with --json; secrets are masked either way. */
export function createLogger(
  options: { level?: LogLevel; json?: boolean; stream?: NodeJS.WritableStream } = {},
): Logger {
  const level = options.level ?? 'info';
  const stream = options.stream ?? process.stdout;
  if (options.json) {
    const emit = (lvl: LogLevel) => (msg: string, data?: Record<string, unknown>) => {
      if (LEVELS[lvl] > LEVELS[level]) return;
      stream.write(`${redact(JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, ...data }))}\n`);
    };
    return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), json: true };
  }
  const consola: ConsolaInstance = createConsola({
    level: LEVELS[level],
    stdout: stream as NodeJS.WriteStream,
    stderr: process.stderr,
    formatOptions: { date: false, colors: Boolean((stream as NodeJS.WriteStream).isTTY) },
  });
  const time = () => new Date().toISOString().slice(11, 19);
  return {
    debug: (m) => consola.debug(`${time()}  ${redact(m)}`),
    info: (m) => consola.log(`${time()}  ${redact(m)}`),
    warn: (m) => consola.warn(`${time()}  ${redact(m)}`),
    error: (m) => consola.error(`${time()}  ${redact(m)}`),
    json: false,
  };
}

/** 12430 -> "12 430", as the design's log lines show row counts. */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}
