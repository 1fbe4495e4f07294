// Trades of one account-day, derived from the ledger's numbers: their net amounts (profit + commission +
// swap + fee) add up exactly to the day's net profit, so daily metrics and trades always reconcile.
import { Rng } from './rng.ts';
import { DAY, type Calendar } from './calendar.ts';
import { INSTRUMENTS, CRYPTO_IDS } from './instruments.ts';
import type { RegimeSeries } from './regimes.ts';
import type { Account } from './ledger.ts';
import type { Traits } from './traits.ts';

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
function drawLegs(ctx: TradeContext, acc: Account, day: number, n: number, totalC: number, rng: Rng, closing: boolean): Leg[] {
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
    const notional = (balance * leverage * Math.exp(0.4 * rng.normal())) / Math.pow(n, 0.3);
    const lots = Math.max(0.01, Math.round((notional / (ins.contractSize * px * usdPerQuote)) * 100) / 100);
    const hours = DURATION_HOURS[tr.style](rng);
    const endMs = closing
      ? Math.min(dayMs + DAY - 1, dayMs + Math.floor(Math.max(0, tr.sessionHour + 3 * rng.normal()) * 3600_000) + rng.int(0, 59_999))
      : dayMs + DAY - 1000;
    const openMs = endMs - Math.round(hours * 3600_000);
    const nights = Math.floor(endMs / DAY) - Math.floor(openMs / DAY);
    const dailyVol = (ins.vol / Math.sqrt(252)) * Math.sqrt(Math.max(hours, 0.05) / 24);
    legs.push({
      k,
      side: rng.chance(0.5 + 0.25 * tr.directional * sentiment) ? 'Buy' : 'Sell',
      lots,
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
  return `${ctx.cal.iso(day).slice(0, 11)}${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}.${pad3(within % 1000)}Z`;
}

function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function toRecord(ctx: TradeContext, acc: Account, day: number, j: number, l: Leg, rng: Rng, closing: boolean): ClosedTrade {
  const ins = INSTRUMENTS[l.k];
  const tr = ctx.traits[acc.trader];
  const dir = l.side === 'Buy' ? 1 : -1;
  const perPoint = l.lots * ins.contractSize * l.usdPerQuote;
  const move = Math.max(-0.5 * l.openPrice, Math.min(0.5 * l.openPrice, (dir * l.profitC) / 100 / perPoint));
  const openPrice = roundTo(l.openPrice, ins.digits);
  const closePrice = roundTo(l.openPrice + move, ins.digits);
  const hasSl = rng.chance(tr.stopLossUsage);
  const hasTp = rng.chance(tr.takeProfitUsage);
  const stopLoss = hasSl ? roundTo(l.openPrice * (1 - dir * rng.uniform(0.002, 0.012)), ins.digits) : null;
  const takeProfit = hasTp ? roundTo(l.openPrice * (1 + dir * rng.uniform(0.002, 0.02)), ins.digits) : null;
  const volumeUSD = roundTo(l.lots * ins.contractSize * l.openPrice * l.usdPerQuote, 2);
  const position = String(10_000_000 + acc.idx * 100_000 + day * 100 + j + (closing ? 0 : 80));
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
    qtyInBaseCrncy: roundTo(l.lots * ins.contractSize, 2),
    volumeUSD,
    stopLoss,
    takeProfit,
    openTime: isoAt(ctx, day, l.openMs),
    openPrice,
    closeTime: isoAt(ctx, day, l.endMs),
    closePrice,
    duration: roundTo((l.endMs - l.openMs) / 3600_000, 4),
    profit: l.profitC / 100,
    commission: l.commissionC / 100,
    fee: 0,
    swap: l.swapC / 100,
    comment: closing && hasTp && l.profitC > 0 && rng.chance(0.5) ? '[tp]' : closing && hasSl && l.profitC < 0 && rng.chance(0.5) ? '[sl]' : '',
    client_margin: roundTo(volumeUSD / acc.plan.leverage, 2),
    firm_margin: roundTo(volumeUSD / 500, 2),
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
