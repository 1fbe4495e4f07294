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

/** Mean, median, std, min, max and coefficient of variation of a sample; nulls when it is empty. */
function spread(xs: number[], round: (x: number) => number = r6) {
  if (xs.length === 0) return { mean: null, median: null, std: null, min: null, max: null, cv: null };
  const sorted = [...xs].sort((a, b) => a - b);
  const m = mean(xs);
  const sd = std(xs);
  return {
    mean: round(m),
    median: round(pct(sorted, 0.5)),
    std: round(sd),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
    cv: m !== 0 ? r6(sd / Math.abs(m)) : null,
  };
}

/** Lengths and sums of the runs of consecutive values that `inRun` accepts. */
function runs(xs: ArrayLike<number>, inRun: (x: number) => boolean): { lengths: number[]; sums: number[] } {
  const lengths: number[] = [];
  const sums: number[] = [];
  let n = 0;
  let sum = 0;
  for (let i = 0; i <= xs.length; i++) {
    if (i < xs.length && inRun(xs[i])) {
      n++;
      sum += xs[i];
    } else if (n > 0) {
      lengths.push(n);
      sums.push(sum);
      n = 0;
      sum = 0;
    }
  }
  return { lengths, sums };
}

/** `{mean,median,max}<name>` of a spread, the API's naming of the statistics of one quantity. */
function named(name: string, s: ReturnType<typeof spread>, words: (keyof ReturnType<typeof spread>)[]): Stats {
  const out: Stats = {};
  for (const w of words) out[`${w}${name}`] = s[w];
  return out;
}

/** `base` is the balance the relative (rel*) and return statistics divide by. */
export function tradeStats(trades: readonly ClosedTrade[], base: number): Stats {
  const n = trades.length;
  const nets = new Float64Array(n);
  const durs = new Float64Array(n);
  const volumes: number[] = [];
  const tps: number[] = [];
  const sls: number[] = [];
  const tpVsSl: number[] = [];
  let gross = 0;
  let loss = 0;
  let wins = 0;
  let losses = 0;
  let lots = 0;
  let volume = 0;
  let winLots = 0;
  let loseLots = 0;
  let winVol = 0;
  let loseVol = 0;
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
    volumes.push(t.volumeUSD);
    if (x > 0) {
      gross += x;
      wins++;
      winLots += t.lots;
      winVol += t.volumeUSD;
    } else if (x < 0) {
      loss += x;
      losses++;
      loseLots += t.lots;
      loseVol += t.volumeUSD;
    }
    if (t.takeProfit !== null) tps.push(Math.abs(t.takeProfit - t.openPrice));
    if (t.stopLoss !== null) sls.push(Math.abs(t.openPrice - t.stopLoss));
    if (t.stopLoss !== null && t.takeProfit !== null && t.stopLoss !== t.openPrice) {
      tpVsSl.push(Math.abs(t.takeProfit - t.openPrice) / Math.abs(t.openPrice - t.stopLoss));
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

  // Drawdown of the running net within this set of trades (<= 0), and the runs of trades spent in it.
  let cum = 0;
  let peak = 0;
  const dds: number[] = [];
  const ddPerTrade = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    cum += nets[i];
    peak = Math.max(peak, cum);
    ddPerTrade[i] = cum - peak;
    if (ddPerTrade[i] < 0) dds.push(ddPerTrade[i]);
  }
  const ddSorted = dds.sort((a, b) => a - b);
  const maxDd = ddSorted.length ? ddSorted[0] : 0;
  const meanDd = mean(dds);
  const medianDd = pct(ddSorted, 0.5);
  const inDd = runs(ddPerTrade, (d) => d < 0).lengths;
  const winRuns = runs(nets, (x) => x > 0);
  const lossRuns = runs(nets, (x) => x <= 0);

  const tenth = Math.max(1, Math.round(n * 0.1));
  let top = 0;
  let bottom = 0;
  for (let i = 0; i < Math.min(tenth, n); i++) {
    bottom += sorted[i];
    top += sorted[n - 1 - i];
  }
  // Profit of the trades more than one (two) standard deviations from the mean trade.
  let oneStd = 0;
  let twoStd = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(nets[i] - meanP);
    if (stdP > 0 && d > stdP) oneStd += nets[i];
    if (stdP > 0 && d > 2 * stdP) twoStd += nets[i];
  }
  let mostSym: string | null = null;
  let mostN = 0;
  for (const [s, c] of bySymbol) {
    if (c > mostN) [mostSym, mostN] = [s, c];
  }
  const winRate = n ? wins / n : 0;
  const avgWin = wins ? gross / wins : 0;
  const avgLoss = n - wins ? loss / (n - wins) : 0;
  const durations = spread(Array.from(durs));
  const winLot = wins ? winLots / wins : null;
  const loseLot = losses ? loseLots / losses : null;
  const winVolume = wins ? winVol / wins : null;
  const loseVolume = losses ? loseVol / losses : null;
  const perVolume = (x: number) => ratio(x, volume);
  const perLot = (x: number) => ratio(x, lots);
  const maxLossRun = lossRuns.sums.length ? r2(Math.min(...lossRuns.sums)) : 0;

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
    oneStdOutlierProfit: r2(oneStd),
    oneStdOutlierProfitContrib: ratio(oneStd, net),
    twoStdOutlierProfit: r2(twoStd),
    twoStdOutlierProfitContrib: ratio(twoStd, net),
    netProfitPerUSDVolume: perVolume(net),
    grossProfitPerUSDVolume: perVolume(gross),
    grossLossPerUSDVolume: perVolume(loss),
    distanceGrossProfitLossPerUSDVolume: perVolume(gross + loss),
    multipleGrossProfitLossPerUSDVolume: ratio(gross, Math.abs(loss)),
    grossProfitPerLot: perLot(gross),
    grossLossPerLot: perLot(loss),
    distanceGrossProfitLossPerLot: perLot(gross + loss),
    multipleGrossProfitLossPerLot: ratio(gross, Math.abs(loss)),
    netProfitPerDuration: ratio(net, hours),
    grossProfitPerDuration: ratio(gross, hours),
    grossLossPerDuration: ratio(loss, hours),
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
    relRiskAdjProfit: ratio(meanP, stdP),
    relMinProfit: n ? ratio(sorted[0], base) : null,
    relMaxProfit: n ? ratio(sorted[n - 1], base) : null,
    relProfitPerc10: ratio(pct(sorted, 0.1), base),
    relProfitPerc25: ratio(pct(sorted, 0.25), base),
    relProfitPerc75: ratio(pct(sorted, 0.75), base),
    relProfitPerc90: ratio(pct(sorted, 0.9), base),
    relProfitTop10PrcntTrades: ratio(top, base),
    relProfitBottom10PrcntTrades: ratio(bottom, base),
    relOneStdOutlierProfit: ratio(oneStd, base),
    relTwoStdOutlierProfit: ratio(twoStd, base),
    meanDrawDown: r2(meanDd),
    medianDrawDown: r2(medianDd),
    maxDrawDown: r2(maxDd),
    ...named('NumTradesInDD', spread(inDd), ['mean', 'median', 'max']),
    relMeanDrawDown: ratio(meanDd, base),
    relMedianDrawDown: ratio(medianDd, base),
    relMaxDrawDown: ratio(maxDd, base),
    totalLots: r2(lots),
    totalVolume: r2(volume),
    stdVolumes: n ? r2(std(volumes)) : null,
    meanWinningLot: winLot === null ? null : r6(winLot),
    meanLosingLot: loseLot === null ? null : r6(loseLot),
    distanceWinLossLots: winLot === null || loseLot === null ? null : r6(winLot - loseLot),
    multipleWinLossLots: winLot === null || loseLot === null ? null : ratio(winLot, loseLot),
    meanWinningVolume: winVolume === null ? null : r2(winVolume),
    meanLosingVolume: loseVolume === null ? null : r2(loseVolume),
    distanceWinLossVolume: winVolume === null || loseVolume === null ? null : r2(winVolume - loseVolume),
    multipleWinLossVolume: winVolume === null || loseVolume === null ? null : ratio(winVolume, loseVolume),
    meanDuration: durations.mean,
    medianDuration: durations.median,
    stdDurations: durations.std,
    minDuration: durations.min,
    maxDuration: durations.max,
    cvDurations: durations.cv,
    ...named('TP', spread(tps), ['mean', 'median', 'std', 'min', 'max', 'cv']),
    ...named('SL', spread(sls), ['mean', 'median', 'std', 'min', 'max', 'cv']),
    ...named('TPvsSL', spread(tpVsSl), ['mean', 'median', 'min', 'max', 'cv']),
    ...named('NumConsecWins', spread(winRuns.lengths), ['mean', 'median']),
    maxNumConsecWins: winRuns.lengths.length ? Math.max(...winRuns.lengths) : 0,
    ...named('NumConsecLosses', spread(lossRuns.lengths), ['mean', 'median']),
    maxNumConsecLosses: lossRuns.lengths.length ? Math.max(...lossRuns.lengths) : 0,
    ...named('ValConsecWins', spread(winRuns.sums, r2), ['mean', 'median']),
    maxValConsecWins: winRuns.sums.length ? r2(Math.max(...winRuns.sums)) : 0,
    ...named('ValConsecLosses', spread(lossRuns.sums, r2), ['mean', 'median']),
    // The worst losing streak, as the API reports it: the most negative sum.
    maxValConsecLosses: maxLossRun,
    meanAccountMargin: n ? r2(clientMargin / n) : null,
    meanFirmMargin: n ? r2(firmMargin / n) : null,
    numTradedSymbols: bySymbol.size,
    mostTradedSymbol: mostSym,
    mostTradedSmbTrades: mostN,
  };
}

/** Trades per active day and the lengths of idle stretches: the lifetime-only activity block. */
export function activityStats(tradesPerDay: ArrayLike<number>): Stats {
  const active = Array.from(tradesPerDay).filter((c) => c > 0);
  const idle = runs(tradesPerDay, (c) => c === 0).lengths;
  const idleSpread = spread(idle);
  return {
    ...named('TradesPerDay', spread(active), ['mean', 'median', 'min', 'max', 'cv']),
    ...named('IdleDays', idleSpread, ['mean', 'median']),
    maxIdleDays: idle.length ? Math.max(...idle) : 0,
    minIdleDays: idle.length ? Math.min(...idle) : 0,
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
