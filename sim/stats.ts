// Profit, return, drawdown, volume and duration statistics over a list of closed trades, the blocks that daily,
// hourly and all-time metrics share. A trade's net amount is profit + commission + swap + fee.
import type { ClosedTrade } from './trades.ts';

export type Stats = Record<string, number | string | null>;

export function tradeNet(t: ClosedTrade): number {
  return Math.round((t.profit + t.commission + t.swap + t.fee) * 100) / 100;
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const ratio = (a: number, b: number) => (b === 0 ? null : r6(a / b));

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : 0;
}

function std(xs: ArrayLike<number>): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** Linear-interpolated percentile of an ascending array. */
function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function downsideStd(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.min(0, xs[i]) ** 2;
  return xs.length ? Math.sqrt(s / xs.length) : 0;
}

/** `base` is the balance the relative (rel*) and return statistics divide by. */
export function tradeStats(trades: readonly ClosedTrade[], base: number): Stats {
  const n = trades.length;
  const nets = new Float64Array(n);
  const durs = new Float64Array(n);
  let gross = 0;
  let loss = 0;
  let wins = 0;
  let lots = 0;
  let volume = 0;
  let winLots = 0;
  let loseLots = 0;
  let winVol = 0;
  let loseVol = 0;
  let withSl = 0;
  let withTp = 0;
  let tpVsSl = 0;
  let tpVsSlN = 0;
  let clientMargin = 0;
  let firmMargin = 0;
  let hours = 0;
  const bySymbol = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const t = trades[i];
    const x = tradeNet(t);
    nets[i] = x;
    durs[i] = t.duration;
    hours += t.duration;
    lots += t.lots;
    volume += t.volumeUSD;
    if (x > 0) {
      gross += x;
      wins++;
      winLots += t.lots;
      winVol += t.volumeUSD;
    } else if (x < 0) {
      loss += x;
      loseLots += t.lots;
      loseVol += t.volumeUSD;
    }
    if (t.stopLoss !== null) withSl++;
    if (t.takeProfit !== null) withTp++;
    if (t.stopLoss !== null && t.takeProfit !== null && t.stopLoss !== t.openPrice) {
      tpVsSl += Math.abs(t.takeProfit - t.openPrice) / Math.abs(t.openPrice - t.stopLoss);
      tpVsSlN++;
    }
    clientMargin += t.client_margin;
    firmMargin += t.firm_margin;
    bySymbol.set(t.stdSymbol, (bySymbol.get(t.stdSymbol) ?? 0) + 1);
  }
  const net = r2(gross + loss);
  const sorted = Float64Array.from(nets).sort();
  const meanP = mean(nets);
  const stdP = std(nets);
  const rets = nets.map((x) => (base > 0 ? x / base : 0));
  const meanR = mean(rets);
  const stdR = std(rets);
  const dStdR = downsideStd(rets);

  // Drawdown of the running net within this set of trades (<= 0).
  let cum = 0;
  let peak = 0;
  const dds: number[] = [];
  let inDd = 0;
  for (let i = 0; i < n; i++) {
    cum += nets[i];
    peak = Math.max(peak, cum);
    const dd = cum - peak;
    if (dd < 0) {
      dds.push(dd);
      inDd++;
    }
  }
  const ddSorted = dds.sort((a, b) => a - b);
  const maxDd = ddSorted.length ? ddSorted[0] : 0;
  const meanDd = mean(dds);

  let runW = 0;
  let runL = 0;
  let valW = 0;
  let valL = 0;
  let maxW = 0;
  let maxL = 0;
  let maxValW = 0;
  let maxValL = 0;
  for (let i = 0; i < n; i++) {
    if (nets[i] > 0) {
      runW++;
      valW += nets[i];
      runL = 0;
      valL = 0;
    } else {
      runL++;
      valL += nets[i];
      runW = 0;
      valW = 0;
    }
    maxW = Math.max(maxW, runW);
    maxL = Math.max(maxL, runL);
    maxValW = Math.max(maxValW, valW);
    maxValL = Math.min(maxValL, valL);
  }

  const tenth = Math.max(1, Math.round(n * 0.1));
  let top = 0;
  let bottom = 0;
  for (let i = 0; i < Math.min(tenth, n); i++) {
    bottom += sorted[i];
    top += sorted[n - 1 - i];
  }
  let mostSym: string | null = null;
  let mostN = 0;
  for (const [s, c] of bySymbol) if (c > mostN) [mostSym, mostN] = [s, c];
  const winRate = n ? wins / n : 0;
  const avgWin = wins ? gross / wins : 0;
  const avgLoss = n - wins ? loss / (n - wins) : 0;
  const medianD = pct(Float64Array.from(durs).sort(), 0.5);
  const meanD = mean(durs);
  const stdD = std(durs);

  return {
    netProfit: net,
    grossProfit: r2(gross),
    grossLoss: r2(loss),
    gainToPain: ratio(net, Math.abs(loss)),
    profitFactor: ratio(gross, Math.abs(loss)),
    successRate: n ? r6(100 * winRate) : null,
    meanProfit: r2(meanP),
    medianProfit: r2(pct(sorted, 0.5)),
    stdProfits: r2(stdP),
    riskAdjProfit: ratio(meanP, stdP),
    expectancy: r2(winRate * avgWin + (1 - winRate) * avgLoss),
    minProfit: n ? sorted[0] : null,
    maxProfit: n ? sorted[n - 1] : null,
    profitPerc10: r2(pct(sorted, 0.1)),
    profitPerc25: r2(pct(sorted, 0.25)),
    profitPerc75: r2(pct(sorted, 0.75)),
    profitPerc90: r2(pct(sorted, 0.9)),
    profitTop10PrcntTrades: r2(top),
    profitBottom10PrcntTrades: r2(bottom),
    top10PrcntProfitContrib: ratio(top, net),
    bottom10PrcntLossContrib: ratio(bottom, net),
    profitPerUSDVolume: ratio(net, volume),
    profitPerLot: ratio(net, lots),
    profitPerHour: ratio(net, hours),
    meanRet: r6(meanR),
    stdRets: r6(stdR),
    riskAdjRet: ratio(meanR, stdR),
    downsideStdRets: r6(dStdR),
    downsideRiskAdjRet: ratio(meanR, dStdR),
    relNetProfit: ratio(net, base),
    relGrossProfit: ratio(gross, base),
    relGrossLoss: ratio(loss, base),
    relMeanProfit: ratio(meanP, base),
    relMedianProfit: ratio(pct(sorted, 0.5), base),
    relStdProfits: ratio(stdP, base),
    relMinProfit: n ? ratio(sorted[0], base) : null,
    relMaxProfit: n ? ratio(sorted[n - 1], base) : null,
    meanDrawDown: r2(meanDd),
    medianDrawDown: r2(pct(ddSorted, 0.5)),
    maxDrawDown: r2(maxDd),
    numTradesInDD: inDd,
    relMeanDrawDown: ratio(meanDd, base),
    relMaxDrawDown: ratio(maxDd, base),
    totalLots: r2(lots),
    totalVolume: r2(volume),
    winningLots: r2(winLots),
    losingLots: r2(loseLots),
    winningVolume: r2(winVol),
    losingVolume: r2(loseVol),
    meanLots: n ? r6(lots / n) : null,
    meanDuration: n ? r6(meanD) : null,
    medianDuration: n ? r6(medianD) : null,
    stdDurations: n ? r6(stdD) : null,
    minDuration: n ? r6(Math.min(...durs)) : null,
    maxDuration: n ? r6(Math.max(...durs)) : null,
    cvDurations: meanD > 0 ? r6(stdD / meanD) : null,
    numTradesWithSL: withSl,
    numTradesWithTP: withTp,
    slUsageRate: n ? r6(withSl / n) : null,
    tpUsageRate: n ? r6(withTp / n) : null,
    meanTPvsSL: tpVsSlN ? r6(tpVsSl / tpVsSlN) : null,
    maxNumConsecWins: maxW,
    maxValConsecWins: r2(maxValW),
    maxNumConsecLosses: maxL,
    maxValConsecLosses: r2(maxValL),
    meanAccountMargin: n ? r2(clientMargin / n) : null,
    meanFirmMargin: n ? r2(firmMargin / n) : null,
    numTradedSymbols: bySymbol.size,
    mostTradedSymbol: mostSym,
    mostTradedSmbTrades: mostN,
  };
}

/** Return statistics over daily returns, the lifetime-only block of all-time metrics. */
export function dailyReturnStats(rets: ArrayLike<number>): Stats {
  const m = mean(rets);
  const s = std(rets);
  const ds = downsideStd(rets);
  return {
    dailyMeanRet: r6(m),
    dailyStdRet: r6(s),
    dailySharpe: s > 0 ? r6((m / s) * Math.sqrt(252)) : null,
    dailyDownsideStdRet: r6(ds),
    dailySortino: ds > 0 ? r6((m / ds) * Math.sqrt(252)) : null,
  };
}
