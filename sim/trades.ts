// Trades of one account-day, derived from the ledger's numbers: their net amounts (profit + commission +
// swap + fee) add up exactly to the day's net profit, so daily metrics and trades always reconcile.
import { Rng } from './rng.ts';
import { DAY, type Calendar } from './calendar.ts';
import { INSTRUMENTS, CRYPTO_IDS } from './instruments.ts';
import type { RegimeSeries } from './regimes.ts';
import type { Account } from './ledger.ts';
import type { Traits } from './traits.ts';
import { ascii, type ByteWriter, type Seg } from './json.ts';

export interface ClosedTrade {
  tradeDate: string;
  broker: number;
  mngr: number;
  platform: number;
  ticket: string;
  position: string;
  login: string;
  trdSymbol: string;
  stdSymbol: string;
  side: 'Buy' | 'Sell';
  lots: number;
  contractSize: number;
  qtyInBaseCrncy: number;
  volumeUSD: number;
  stopLoss: number | null;
  takeProfit: number | null;
  openTime: string;
  openPrice: number;
  closeTime: string;
  closePrice: number;
  duration: number;
  profit: number;
  commission: number;
  fee: number;
  swap: number;
  comment: string;
  client_margin: number;
  firm_margin: number;
}

export type OpenTrade = Omit<ClosedTrade, 'closeTime' | 'closePrice'>;

export interface TradeContext {
  seed: number;
  cal: Calendar;
  regimes: RegimeSeries;
  traits: Traits[];
}

const DURATION_HOURS = {
  scalper: (r: Rng) => Math.exp(r.uniform(Math.log(0.02), Math.log(0.6))),
  intraday: (r: Rng) => r.uniform(0.3, 8),
  swing: (r: Rng) => r.uniform(12, 96),
};

interface Leg {
  k: number;
  side: 'Buy' | 'Sell';
  lots: number;
  /** lots * 100, an integer. */
  lotsC: number;
  openPrice: number;
  usdPerQuote: number;
  openMs: number;
  endMs: number;
  commissionC: number;
  swapC: number;
  scale: number;
  profitC: number;
}

/** Draws the legs (instrument, size, times, costs) and splits `totalC` cents of net amount among them. */
function drawLegs(
  ctx: TradeContext,
  acc: Account,
  day: number,
  n: number,
  totalC: number,
  rng: Rng,
  closing: boolean,
): Leg[] {
  const tr = ctx.traits[acc.trader];
  const i = day - acc.startDay;
  const balance = (i === 0 ? acc.plan.startingBalance * 100 : acc.balance[i - 1]) / 100;
  const dayMs = ctx.cal.dayMs(day);
  const weekend = ctx.cal.isWeekend(day);
  const sentiment = ctx.regimes.sentiment[day];
  const weights = weekend ? CRYPTO_IDS.map((k) => tr.symbolWeights[k]) : tr.symbolWeights;
  const legs: Leg[] = [];
  for (let j = 0; j < n; j++) {
    const w = rng.weighted(weights);
    const k = weekend ? CRYPTO_IDS[w] : w;
    const ins = INSTRUMENTS[k];
    const px = ctx.regimes.price(day, k) * (1 + 0.002 * rng.normal());
    const usdPerQuote = ins.quoteUsd ? 1 : 1 / px;
    // Prop firms cap crypto leverage far below FX leverage.
    const leverage = tr.leverageUse * (ins.assetClass === 'crypto' ? 0.2 : 1);
    const notional = (balance * leverage * Math.exp(0.4 * rng.normal())) / n ** 0.3;
    // Same double as max(0.01, round(x * 100) / 100); the integer is kept for the byte writer.
    const lotsC = Math.max(1, Math.round((notional / (ins.contractSize * px * usdPerQuote)) * 100));
    const lots = lotsC / 100;
    const hours = DURATION_HOURS[tr.style](rng);
    const endMs = closing
      ? Math.min(
          dayMs + DAY - 1,
          dayMs + Math.floor(Math.max(0, tr.sessionHour + 3 * rng.normal()) * 3600_000) + rng.int(0, 59_999),
        )
      : dayMs + DAY - 1000;
    const openMs = endMs - Math.round(hours * 3600_000);
    const nights = Math.floor(endMs / DAY) - Math.floor(openMs / DAY);
    const dailyVol = (ins.vol / Math.sqrt(252)) * Math.sqrt(Math.max(hours, 0.05) / 24);
    legs.push({
      k,
      side: rng.chance(0.5 + 0.25 * tr.directional * sentiment) ? 'Buy' : 'Sell',
      lots,
      lotsC,
      openPrice: px,
      usdPerQuote,
      openMs,
      endMs,
      commissionC: 0 - Math.round(ins.commissionPerLot * lots * 100) || 0,
      swapC: nights * Math.round(ins.swapPerLot * lots * 100) || 0,
      scale: lots * ins.contractSize * px * usdPerQuote * dailyVol,
      profitC: 0,
    });
  }
  if (closing) legs.sort((a, b) => a.endMs - b.endMs);
  let costs = 0;
  let raw = 0;
  let scales = 0;
  let big = 0;
  const pWin = Math.min(0.7, Math.max(0.3, 0.5 + 0.15 * tr.skill));
  const draws = legs.map((l, j) => {
    costs += l.commissionC + l.swapC;
    scales += l.scale;
    if (l.scale > legs[big].scale) big = j;
    const x = l.scale * Math.abs(rng.normal()) * (rng.chance(pWin) ? 1 : -1.1);
    raw += x;
    return x;
  });
  // Shift each trade in proportion to its size so the gross profits add up to the day's total minus costs.
  const gross = totalC - costs;
  let assigned = 0;
  legs.forEach((l, j) => {
    l.profitC = Math.round(draws[j] * 100 + ((gross - raw * 100) * l.scale) / scales) || 0;
    assigned += l.profitC;
  });
  legs[big].profitC += gross - assigned;
  return legs;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** ISO timestamp; times on `day` reuse its date prefix (toISOString per trade dominated generation). */
function isoAt(ctx: TradeContext, day: number, ms: number): string {
  const within = ms - ctx.cal.dayMs(day);
  if (within < 0 || within >= DAY) return new Date(ms).toISOString();
  const s = Math.floor(within / 1000);
  return (
    `${ctx.cal.iso(day).slice(0, 11)}${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:` +
    `${pad2(s % 60)}.${pad3(within % 1000)}Z`
  );
}

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/** round(x * 10^digits): the integer behind a value rounded to `digits` (the value is that / 10^digits). */
function scaled(x: number, digits: number): number {
  return Math.round(x * POW10[digits]);
}

/**
 * The numbers of one trade at the precision the API carries, as integers scaled by 10^digits (prices: the
 * instrument's digits; money, lots and sizes: 2; duration: 4). One scratch object is reused: the object records
 * and the byte writer both read it, so they carry the same values by construction.
 */
interface TradeNums {
  openPriceM: number;
  closePriceM: number;
  hasSl: boolean;
  hasTp: boolean;
  stopLossM: number;
  takeProfitM: number;
  qtyC: number;
  volumeC: number;
  durationM: number;
  /** 0 none, 1 [tp], 2 [sl]. */
  comment: number;
  clientMarginC: number;
  firmMarginC: number;
  position: number;
}

const COMMENTS = ['', '[tp]', '[sl]'];

function newNums(): TradeNums {
  return {
    openPriceM: 0,
    closePriceM: 0,
    hasSl: false,
    hasTp: false,
    stopLossM: 0,
    takeProfitM: 0,
    qtyC: 0,
    volumeC: 0,
    durationM: 0,
    comment: 0,
    clientMarginC: 0,
    firmMarginC: 0,
    position: 0,
  };
}

/** Draws and rounds the per-trade numbers; consumes the rng exactly as the records always have. */
function tradeNums(
  ctx: TradeContext,
  acc: Account,
  day: number,
  j: number,
  l: Leg,
  rng: Rng,
  closing: boolean,
  out: TradeNums,
): TradeNums {
  const ins = INSTRUMENTS[l.k];
  const tr = ctx.traits[acc.trader];
  const dir = l.side === 'Buy' ? 1 : -1;
  const perPoint = l.lots * ins.contractSize * l.usdPerQuote;
  const move = Math.max(-0.5 * l.openPrice, Math.min(0.5 * l.openPrice, (dir * l.profitC) / 100 / perPoint));
  out.openPriceM = scaled(l.openPrice, ins.digits);
  out.closePriceM = scaled(l.openPrice + move, ins.digits);
  const hasSl = rng.chance(tr.stopLossUsage);
  const hasTp = rng.chance(tr.takeProfitUsage);
  out.hasSl = hasSl;
  out.hasTp = hasTp;
  out.stopLossM = hasSl ? scaled(l.openPrice * (1 - dir * rng.uniform(0.002, 0.012)), ins.digits) : 0;
  out.takeProfitM = hasTp ? scaled(l.openPrice * (1 + dir * rng.uniform(0.002, 0.02)), ins.digits) : 0;
  out.volumeC = scaled(l.lots * ins.contractSize * l.openPrice * l.usdPerQuote, 2);
  const volumeUSD = out.volumeC / 100;
  out.position = 10_000_000 + acc.idx * 100_000 + day * 100 + j + (closing ? 0 : 80);
  out.qtyC = scaled(l.lots * ins.contractSize, 2);
  out.durationM = scaled((l.endMs - l.openMs) / 3600_000, 4);
  out.comment =
    closing && hasTp && l.profitC > 0 && rng.chance(0.5)
      ? 1
      : closing && hasSl && l.profitC < 0 && rng.chance(0.5)
        ? 2
        : 0;
  out.clientMarginC = scaled(volumeUSD / acc.plan.leverage, 2);
  out.firmMarginC = scaled(volumeUSD / 500, 2);
  return out;
}

function toRecord(
  ctx: TradeContext,
  acc: Account,
  day: number,
  j: number,
  l: Leg,
  rng: Rng,
  closing: boolean,
): ClosedTrade {
  const ins = INSTRUMENTS[l.k];
  const n = tradeNums(ctx, acc, day, j, l, rng, closing, newNums());
  const f = POW10[ins.digits];
  const position = String(n.position);
  return {
    tradeDate: ctx.cal.iso(day),
    broker: acc.broker,
    mngr: acc.mngr,
    platform: acc.platform,
    ticket: position,
    position,
    login: acc.login,
    trdSymbol: ins.trdSymbol,
    stdSymbol: ins.symbol,
    side: l.side,
    lots: l.lots,
    contractSize: ins.contractSize,
    qtyInBaseCrncy: n.qtyC / 100,
    volumeUSD: n.volumeC / 100,
    stopLoss: n.hasSl ? n.stopLossM / f : null,
    takeProfit: n.hasTp ? n.takeProfitM / f : null,
    openTime: isoAt(ctx, day, l.openMs),
    openPrice: n.openPriceM / f,
    closeTime: isoAt(ctx, day, l.endMs),
    closePrice: n.closePriceM / f,
    duration: n.durationM / 10_000,
    profit: l.profitC / 100,
    commission: l.commissionC / 100,
    fee: 0,
    swap: l.swapC / 100,
    comment: COMMENTS[n.comment],
    client_margin: n.clientMarginC / 100,
    firm_margin: n.firmMarginC / 100,
  };
}

/** Closed trades of an account on a day, in close-time order. */
export function closedTradesOf(ctx: TradeContext, acc: Account, day: number): ClosedTrade[] {
  const i = day - acc.startDay;
  const n = acc.nTrades[i];
  if (!n) return [];
  const rng = new Rng(ctx.seed, 0x7d, acc.idx, day);
  const legs = drawLegs(ctx, acc, day, n, acc.net[i], rng, true);
  return legs.map((l, j) => toRecord(ctx, acc, day, j, l, rng, true));
}

/** Positions open at the end of the day; their profit + commission + swap + fee add up to equity - balance. */
export function openTradesOf(ctx: TradeContext, acc: Account, day: number): OpenTrade[] {
  const i = day - acc.startDay;
  const n = acc.nOpen[i];
  if (!n) return [];
  const rng = new Rng(ctx.seed, 0x0b, acc.idx, day);
  const legs = drawLegs(ctx, acc, day, n, acc.floating[i], rng, false);
  return legs.map((l, j) => {
    const { closeTime: _c, closePrice: _p, ...rest } = toRecord(ctx, acc, day, j, l, rng, false);
    return rest;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Trades written straight into JSON bytes (see ByteWriter): the same legs and numbers as the records above, no
// objects. A day's records are written one after the other, each followed by ','.

const K = {
  position: ascii('","position":"'),
  contractSize: ascii(',"contractSize":'),
  qty: ascii(',"qtyInBaseCrncy":'),
  volume: ascii(',"volumeUSD":'),
  stopLoss: ascii(',"stopLoss":'),
  takeProfit: ascii(',"takeProfit":'),
  openTime: ascii(',"openTime":"'),
  openPrice: ascii('","openPrice":'),
  closeTime: ascii(',"closeTime":"'),
  closePrice: ascii('","closePrice":'),
  duration: ascii(',"duration":'),
  profit: ascii(',"profit":'),
  commission: ascii(',"commission":'),
  swap: ascii(',"fee":0,"swap":'),
  comment: ascii(',"comment":'),
  clientMargin: ascii(',"client_margin":'),
  firmMargin: ascii(',"firm_margin":'),
  null: ascii('null'),
  end: ascii('},'),
};
const COMMENT_BYTES = COMMENTS.map((c) => ascii(JSON.stringify(c)));
/** Per instrument and side (Buy, Sell): `<trdSymbol>","stdSymbol":"...","side":"...","lots":`. */
const SYMBOL_BYTES = INSTRUMENTS.map((ins) =>
  (['Buy', 'Sell'] as const).map((side) =>
    ascii(
      `${JSON.stringify(ins.trdSymbol).slice(1)},"stdSymbol":${JSON.stringify(ins.symbol)},` +
        `"side":${JSON.stringify(side)},"lots":`,
    ),
  ),
);
const CONTRACT_BYTES = INSTRUMENTS.map((ins) => ascii(`${ins.contractSize}`));
const scratch = newNums();
const loginSegs = new WeakMap<Account, Seg>();
/** Record heads by date, broker, manager and platform (a handful a day). */
const heads = new Map<string, Seg>();

function headSeg(iso: string, acc: Account): Seg {
  const key = `${iso}|${acc.broker}|${acc.mngr}|${acc.platform}`;
  let seg = heads.get(key);
  if (!seg) {
    if (heads.size > 4096) heads.clear();
    seg = ascii(
      `{"tradeDate":${JSON.stringify(iso)},"broker":${acc.broker},"mngr":${acc.mngr},` +
        `"platform":${acc.platform},"ticket":"`,
    );
    heads.set(key, seg);
  }
  return seg;
}

/**
 * Writes the closed (or open, `closing` false) trades of an account-day as JSON records, each followed by ',',
 * recording each record's start offset in `offs` from index `at`. Returns the next index.
 */
export function writeTradesOf(
  ctx: TradeContext,
  acc: Account,
  day: number,
  closing: boolean,
  w: ByteWriter,
  offs: Uint32Array,
  at: number,
): number {
  const i = day - acc.startDay;
  const n = closing ? acc.nTrades[i] : acc.nOpen[i];
  if (!n) return at;
  const rng = new Rng(ctx.seed, closing ? 0x7d : 0x0b, acc.idx, day);
  const legs = drawLegs(ctx, acc, day, n, closing ? acc.net[i] : acc.floating[i], rng, closing);
  const head = headSeg(ctx.cal.iso(day), acc);
  let login = loginSegs.get(acc);
  if (!login) {
    login = ascii(`","login":${JSON.stringify(acc.login)},"trdSymbol":"`);
    loginSegs.set(acc, login);
  }
  const room = 1024 + head.length + login.length;
  for (let j = 0; j < legs.length; j++) {
    const l = legs[j];
    const t = tradeNums(ctx, acc, day, j, l, rng, closing, scratch);
    const digits = INSTRUMENTS[l.k].digits;
    w.ensure(room);
    offs[at++] = w.pos;
    w.seg(head);
    w.uint(t.position);
    w.seg(K.position);
    w.uint(t.position);
    w.seg(login);
    w.seg(SYMBOL_BYTES[l.k][l.side === 'Buy' ? 0 : 1]);
    w.fixed(l.lotsC, 2);
    w.seg(K.contractSize);
    w.seg(CONTRACT_BYTES[l.k]);
    w.seg(K.qty);
    w.fixed(t.qtyC, 2);
    w.seg(K.volume);
    w.fixed(t.volumeC, 2);
    w.seg(K.stopLoss);
    if (t.hasSl) w.fixed(t.stopLossM, digits);
    else w.seg(K.null);
    w.seg(K.takeProfit);
    if (t.hasTp) w.fixed(t.takeProfitM, digits);
    else w.seg(K.null);
    w.seg(K.openTime);
    w.iso(l.openMs);
    w.seg(K.openPrice);
    w.fixed(t.openPriceM, digits);
    if (closing) {
      w.seg(K.closeTime);
      w.iso(l.endMs);
      w.seg(K.closePrice);
      w.fixed(t.closePriceM, digits);
    }
    w.seg(K.duration);
    w.fixed(t.durationM, 4);
    w.seg(K.profit);
    w.fixed(l.profitC, 2);
    w.seg(K.commission);
    w.fixed(l.commissionC, 2);
    w.seg(K.swap);
    w.fixed(l.swapC, 2);
    w.seg(K.comment);
    w.seg(COMMENT_BYTES[t.comment]);
    w.seg(K.clientMargin);
    w.fixed(t.clientMarginC, 2);
    w.seg(K.firmMargin);
    w.fixed(t.firmMarginC, 2);
    w.seg(K.end);
  }
  return at;
}
