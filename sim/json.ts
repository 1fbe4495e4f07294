// Hand-written JSON for the high-volume records: JSON.stringify on millions of trade objects is the cost of
// serving, and a template over known field types is faster. Output parses to the same object.
import type { ClosedTrade, OpenTrade } from './trades.ts';

// Ids, logins, symbols and timestamps are generated from digits and letters and are written unescaped;
// only the free-text comment may need escaping.
const SAFE = /^[\w .:\-[\]]*$/;
function str(s: string): string {
  return SAFE.test(s) ? `"${s}"` : JSON.stringify(s);
}

function opt(x: number | null): string {
  return x === null ? 'null' : `${x}`;
}

export function closedTradeJson(t: ClosedTrade): string {
  return (
    `{"tradeDate":"${t.tradeDate}","broker":${t.broker},"mngr":${t.mngr},"platform":${t.platform},` +
    `"ticket":"${t.ticket}","position":"${t.position}","login":"${t.login}","trdSymbol":"${t.trdSymbol}",` +
    `"stdSymbol":"${t.stdSymbol}","side":"${t.side}","lots":${t.lots},"contractSize":${t.contractSize},` +
    `"qtyInBaseCrncy":${t.qtyInBaseCrncy},"volumeUSD":${t.volumeUSD},"stopLoss":${opt(t.stopLoss)},` +
    `"takeProfit":${opt(t.takeProfit)},"openTime":"${t.openTime}","openPrice":${t.openPrice},` +
    `"closeTime":"${t.closeTime}","closePrice":${t.closePrice},"duration":${t.duration},"profit":${t.profit},` +
    `"commission":${t.commission},"fee":${t.fee},"swap":${t.swap},"comment":${str(t.comment)},` +
    `"client_margin":${t.client_margin},"firm_margin":${t.firm_margin}}`
  );
}

export function openTradeJson(t: OpenTrade): string {
  return (
    `{"tradeDate":"${t.tradeDate}","broker":${t.broker},"mngr":${t.mngr},"platform":${t.platform},` +
    `"ticket":"${t.ticket}","position":"${t.position}","login":"${t.login}","trdSymbol":"${t.trdSymbol}",` +
    `"stdSymbol":"${t.stdSymbol}","side":"${t.side}","lots":${t.lots},"contractSize":${t.contractSize},` +
    `"qtyInBaseCrncy":${t.qtyInBaseCrncy},"volumeUSD":${t.volumeUSD},"stopLoss":${opt(t.stopLoss)},` +
    `"takeProfit":${opt(t.takeProfit)},"openTime":"${t.openTime}","openPrice":${t.openPrice},` +
    `"duration":${t.duration},"profit":${t.profit},"commission":${t.commission},"fee":${t.fee},"swap":${t.swap},` +
    `"comment":${str(t.comment)},"client_margin":${t.client_margin},"firm_margin":${t.firm_margin}}`
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Byte-level JSON for serving trades: records are written as ASCII straight into one Buffer per day, numbers from
// their integer scaled form (value * 10^digits), so no per-trade objects or strings are made. The text equals
// JSON.stringify of the truth records (tests check it).

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];
const DAY_MS = 86_400_000;
/** "YYYY-MM-DDT" of an epoch day, as bytes. */
const datePrefixes = new Map<number, Seg>();

/** Constant ASCII text, also as little-endian 32-bit words so it is copied four bytes at a time. */
export interface Seg {
  length: number;
  words: Int32Array;
}

export function ascii(s: string): Seg {
  const bytes = Buffer.from(s, 'utf8');
  const words = new Int32Array(Math.ceil(bytes.length / 4));
  for (let i = 0; i < bytes.length; i++) words[i >> 2] |= bytes[i] << (8 * (i & 3));
  return { length: bytes.length, words };
}

/** Room a writer keeps past what it was asked for: word copies may write up to 3 bytes beyond a segment. */
const SLACK = 8;

export class ByteWriter {
  buf: Buffer;
  private view: DataView;
  pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, capacity));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Makes room for at least `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n + SLACK <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + SLACK));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** Copies a constant segment (whole words: the bytes past its end are overwritten by what follows). */
  seg(s: Seg): void {
    const v = this.view;
    const w = s.words;
    let p = this.pos;
    for (let i = 0; i < w.length; i++, p += 4) v.setInt32(p, w[i], true);
    this.pos += s.length;
  }

  /** A non-negative integer (exact up to 2^53). */
  uint(n: number): void {
    const b = this.buf;
    if (n < 2147483648) {
      let x = n | 0;
      const len =
        x < 10
          ? 1
          : x < 100
            ? 2
            : x < 1000
              ? 3
              : x < 10_000
                ? 4
                : x < 100_000
                  ? 5
                  : x < 1_000_000
                    ? 6
                    : x < 10_000_000
                      ? 7
                      : x < 100_000_000
                        ? 8
                        : x < 1_000_000_000
                          ? 9
                          : 10;
      let p = this.pos + len;
      this.pos = p;
      do {
        const q = (x / 10) | 0;
        b[--p] = 48 + x - q * 10;
        x = q;
      } while (x !== 0);
      return;
    }
    let len = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
    let p = this.pos + len;
    this.pos = p;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
    b[--p] = 48 + n;
  }

  /**
   * The number m / 10^d as JavaScript prints it (String(m / 10 ** d)), for an integer m: exact for the magnitudes
   * used here (|m| / 10^d far from 2^53 spacing, no exponent notation), -0 prints as 0.
   */
  fixed(m: number, d: number): void {
    if (m < 0) {
      this.buf[this.pos++] = 45;
      m = -m;
    }
    if (d === 0) {
      this.uint(m);
      return;
    }
    const f = POW10[d];
    let ip = Math.floor(m / f);
    let fp = m - ip * f;
    if (fp < 0) {
      ip--;
      fp += f;
    } else if (fp >= f) {
      ip++;
      fp -= f;
    }
    this.uint(ip);
    if (fp === 0) return;
    let x = fp | 0;
    let nd = d;
    while (x % 10 === 0) {
      x = (x / 10) | 0;
      nd--;
    }
    const b = this.buf;
    b[this.pos++] = 46;
    let p = this.pos + nd;
    this.pos = p;
    for (let i = 0; i < nd; i++) {
      const q = (x / 10) | 0;
      b[--p] = 48 + x - q * 10;
      x = q;
    }
  }

  /** new Date(ms).toISOString() without the quotes. */
  iso(ms: number): void {
    const epochDay = Math.floor(ms / DAY_MS);
    let prefix = datePrefixes.get(epochDay);
    if (!prefix) {
      prefix = ascii(new Date(epochDay * DAY_MS).toISOString().slice(0, 11));
      datePrefixes.set(epochDay, prefix);
    }
    this.seg(prefix);
    let within = (ms - epochDay * DAY_MS) | 0;
    const b = this.buf;
    let p = this.pos;
    const milli = within % 1000;
    within = ((within - milli) / 1000) | 0;
    const sec = within % 60;
    within = ((within - sec) / 60) | 0;
    const min = within % 60;
    const hour = ((within - min) / 60) | 0;
    b[p++] = 48 + ((hour / 10) | 0);
    b[p++] = 48 + (hour % 10);
    b[p++] = 58;
    b[p++] = 48 + ((min / 10) | 0);
    b[p++] = 48 + (min % 10);
    b[p++] = 58;
    b[p++] = 48 + ((sec / 10) | 0);
    b[p++] = 48 + (sec % 10);
    b[p++] = 46;
    b[p++] = 48 + ((milli / 100) | 0);
    b[p++] = 48 + (((milli / 10) | 0) % 10);
    b[p++] = 48 + (milli % 10);
    b[p++] = 90;
    this.pos = p;
  }
}
