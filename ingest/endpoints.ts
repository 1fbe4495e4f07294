import { compileEncoder, type RecordEncoder } from './encoder.ts';
import { fields, recordSchema, type Field } from './fields.ts';

/** How one API listing lands in one raw table. */
export interface EndpointSpec {
  /** CLI name, e.g. `trades closed`. */
  name: string;
  path: string;
  pageLimit: number;
  table: string;
  /** Raw-table columns that identify a record, as the source keys it. */
  key: string[];
  fields: Field[];
  /** The API's documented cap on `accountIds` per request: listings go account batch by account batch. */
  accountBatch?: number;
  /** How a date window becomes query parameters; undefined = the endpoint has no date filter. */
  windowParams?: (dates: string[]) => Record<string, string>[];
  /** Identifies a record in rejected_records and messages, from the raw API object. */
  recordId: (r: Record<string, unknown>) => string;
  schema: ReturnType<typeof recordSchema>;
  /** The schema's fast path straight to the CSV line and key (encoder.ts); false leaves the record to `schema`. */
  encode: RecordEncoder;
  /** Fields that must not disappear from the API without notice; extra API fields go to the `extra` column. */
  keepExtra: boolean;
}

const compact = (d: string) => d.replace(/-/g, '');
const positive = (name: string) => (v: unknown) =>
  typeof v === 'number' && !(v > 0) ? `${name} must be > 0, got ${v}` : undefined;
const side = (v: unknown) =>
  typeof v === 'string' && !/^(buy|sell)$/i.test(v) ? `side must be Buy or Sell, got ${JSON.stringify(v)}` : undefined;

// The record fields as the real API names and types them (upstream-facts section 1b): money and ratios are
// decimals, counts whole numbers; a mean or median of counts is a decimal. `price_stream` is an int code upstream
// and kept as text, which takes a number or a label without loss.
const IDENTITY =
  'login:text! accountId:text! planId:int trader:text status:int type:int phase:int broker:int mt_version:int ' +
  'price_stream:text country:text';
const MONEY =
  'approved_payouts:num pending_payouts:num startingBalance:num priorDaysBalance:num priorDaysEquity:num ' +
  'currentBalance:num currentEquity:num';
const ACTIVITY = 'firstTradeDate:date daysSinceInitialDeposit:int daysSinceFirstTrade:int numTrades:int';
/** `stats('mean,max', 'NumOpenPos', kind)` -> meanNumOpenPos and maxNumOpenPos, typed by `kind(word)`. */
const stats = (words: string, name: string, kind: (word: string) => string) =>
  words
    .split(',')
    .map((w) => `${w}${name}:${kind(w)}`)
    .join(' ');
/** Means, medians and coefficients of variation of counts are decimals; min and max of counts are whole. */
const countStat = (w: string) => (w === 'max' || w === 'min' ? 'int' : 'num');
const num = () => 'num';
const STATS = [
  'netProfit:num grossProfit:num grossLoss:num gainToPain:num profitFactor:num successRate:num meanProfit:num',
  'medianProfit:num stdProfits:num riskAdjProfit:num expectancy:num minProfit:num maxProfit:num',
  'profitPerc10:num profitPerc25:num profitPerc75:num profitPerc90:num',
  'profitTop10PrcntTrades:num profitBottom10PrcntTrades:num top10PrcntProfitContrib:num bottom10PrcntLossContrib:num',
  'oneStdOutlierProfit:num oneStdOutlierProfitContrib:num twoStdOutlierProfit:num twoStdOutlierProfitContrib:num',
  'netProfitPerUSDVolume:num grossProfitPerUSDVolume:num grossLossPerUSDVolume:num',
  'distanceGrossProfitLossPerUSDVolume:num multipleGrossProfitLossPerUSDVolume:num',
  'grossProfitPerLot:num grossLossPerLot:num distanceGrossProfitLossPerLot:num multipleGrossProfitLossPerLot:num',
  'netProfitPerDuration:num grossProfitPerDuration:num grossLossPerDuration:num',
  'meanRet:num stdRets:num riskAdjRet:num downsideStdRets:num downsideRiskAdjRet:num',
  'relNetProfit:num relGrossProfit:num relGrossLoss:num relMeanProfit:num relMedianProfit:num relStdProfits:num',
  'relRiskAdjProfit:num relMinProfit:num relMaxProfit:num',
  'relProfitPerc10:num relProfitPerc25:num relProfitPerc75:num relProfitPerc90:num',
  'relProfitTop10PrcntTrades:num relProfitBottom10PrcntTrades:num relOneStdOutlierProfit:num',
  'relTwoStdOutlierProfit:num',
  'meanDrawDown:num medianDrawDown:num maxDrawDown:num',
  stats('mean,median,max', 'NumTradesInDD', countStat),
  'relMeanDrawDown:num relMedianDrawDown:num relMaxDrawDown:num',
  'totalLots:num totalVolume:num stdVolumes:num meanWinningLot:num meanLosingLot:num distanceWinLossLots:num',
  'multipleWinLossLots:num meanWinningVolume:num meanLosingVolume:num distanceWinLossVolume:num',
  'multipleWinLossVolume:num',
  'meanDuration:num medianDuration:num stdDurations:num minDuration:num maxDuration:num cvDurations:num',
  stats('mean,median,std,min,max,cv', 'TP', num),
  stats('mean,median,std,min,max,cv', 'SL', num),
  'meanTPvsSL=mean_tp_vs_sl:num medianTPvsSL=median_tp_vs_sl:num minTPvsSL=min_tp_vs_sl:num',
  'maxTPvsSL=max_tp_vs_sl:num cvTPvsSL=cv_tp_vs_sl:num',
  stats('mean,median,max', 'NumConsecWins', countStat),
  stats('mean,median,max', 'NumConsecLosses', countStat),
  stats('mean,median,max', 'ValConsecWins', num),
  stats('mean,median,max', 'ValConsecLosses', num),
  stats('mean,median,max', 'NumOpenPos', countStat),
  stats('mean,median,max', 'ValOpenPos', num),
  'meanValtoEqtyOpenPos=mean_val_to_eqty_open_pos:num medianValtoEqtyOpenPos=median_val_to_eqty_open_pos:num',
  'maxValtoEqtyOpenPos=max_val_to_eqty_open_pos:num',
  'meanAccountMargin:num meanFirmMargin:num',
  'numTradedSymbols:int mostTradedSymbol:text mostTradedSmbTrades:int',
].join(' ');
/** The all-time record's lifetime-only fields (not on daily or hourly records). */
const LIFETIME = [
  'firstTradeOpen:ts lastTradeOpen:ts lastTradeClose:ts lifeTimeInDays:num',
  'totalRet:num dailyMeanRet:num dailyStdRet:num dailySharpe:num dailyDownsideStdRet:num dailySortino:num',
  stats('mean,median,min,max,cv', 'TradesPerDay', num),
  stats('mean,median,max,min', 'IdleDays', countStat),
  'updatedDate:ts',
].join(' ');
const TRADE = [
  'tradeDate:date! broker:int mngr:int platform:int! ticket:text position:text! login:text! trdSymbol:text',
  'stdSymbol:text side:text! lots:num! contractSize:num qtyInBaseCrncy:num volumeUSD:num stopLoss:num',
  'takeProfit:num openTime:ts! openPrice:num! duration:num profit:num commission:num fee:num swap:num comment:text',
  'client_margin:num firm_margin:num',
].join(' ');

function withRules(list: Field[]): Field[] {
  return list.map((f) =>
    f.api === 'lots' ? { ...f, refine: positive('lots') } : f.api === 'side' ? { ...f, refine: side } : f,
  );
}

const metricsId = (r: Record<string, unknown>) =>
  `account ${r.accountId ?? '?'}${r.date ? ` on ${r.date}` : ''}${r.hour !== undefined ? ` hour ${r.hour}` : ''}`;
const tradeId = (r: Record<string, unknown>) =>
  `trade platform ${r.platform ?? '?'} position ${r.position ?? '?'} on ${r.tradeDate ?? '?'}`;
/** Two timestamps in the API's own form (`2024-01-01T09:30:00.000Z`) sort as text in time order: no Date.parse. */
const SAME_FORM = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const closedAfterOpen = (r: Record<string, unknown>) => {
  const { closeTime: close, openTime: open } = r;
  if (typeof close !== 'string' || typeof open !== 'string') return undefined;
  // Not before as text, then not before in time either: Date.parse only moves a value later than its text
  // (T24:00 is the next day, Feb 30 is Mar 1), which cannot put close first unless it moves open, so open's
  // day must be one every month has (or both on the same day, moved alike).
  if (
    close >= open &&
    close.length === 24 &&
    open.length === 24 &&
    (open < `${open.slice(0, 8)}29` || close.slice(0, 10) === open.slice(0, 10)) &&
    SAME_FORM.test(close) &&
    SAME_FORM.test(open)
  ) {
    return undefined;
  }
  return Date.parse(close) < Date.parse(open) ? `closeTime ${close} is before openTime ${open}` : undefined;
};

/**
 * The schema and the encoder are built on first use: most commands load these specs without landing records.
 */
function spec(
  s: Omit<EndpointSpec, 'schema' | 'encode' | 'keepExtra'> & {
    rule?: (r: Record<string, unknown>) => string | undefined;
  },
): EndpointSpec {
  const { rule, ...rest } = s;
  let schema: EndpointSpec['schema'] | undefined;
  let encode: RecordEncoder | undefined;
  return {
    ...rest,
    keepExtra: true,
    get schema() {
      schema ??= recordSchema(s.fields, rule);
      return schema;
    },
    get encode() {
      encode ??= compileEncoder({ fields: s.fields, key: s.key, rule });
      return encode;
    },
  };
}

const daily = fields(`date:date! ${IDENTITY} ${MONEY} ${ACTIVITY} ${STATS} days_to_next_payout:int todays_payouts:num`);

export const ENDPOINT_SPECS: EndpointSpec[] = [
  spec({
    name: 'accounts',
    path: 'accounts',
    pageLimit: 500,
    table: 'raw.accounts',
    key: ['account_id'],
    fields: fields(
      'accountId:text! login:text! traderId:text planId:int startingBalance:num currentBalance:num ' +
        'currentEquity:num profitTargetPct:num maxDailyDrawdownPct:num maxDrawdownPct:num maxLeverage:num ' +
        'isDrawdownRelative:bool breached:bool isUpgraded:bool phase:int status:int createdAt:ts updatedAt:ts',
    ),
    recordId: (r) => `account ${r.accountId ?? '?'}`,
  }),
  spec({
    name: 'metrics alltime',
    path: 'v2/metrics/alltime',
    pageLimit: 1000,
    table: 'raw.metrics_alltime',
    key: ['account_id'],
    fields: fields(`${IDENTITY} ${MONEY} ${ACTIVITY} ${STATS} ${LIFETIME}`),
    recordId: metricsId,
  }),
  spec({
    name: 'metrics daily',
    path: 'v2/metrics/daily',
    pageLimit: 1000,
    table: 'raw.metrics_daily',
    key: ['account_id', 'date'],
    fields: daily,
    windowParams: (dates) => [{ dates: dates.map(compact).join(',') }],
    recordId: metricsId,
  }),
  spec({
    name: 'metrics hourly',
    path: 'v2/metrics/hourly',
    pageLimit: 1000,
    table: 'raw.metrics_hourly',
    key: ['account_id', 'date', 'hour'],
    fields: [...daily, ...fields('datetime:ts! hour:int!')],
    accountBatch: 25,
    // The API documents one date and at most 25 accountIds per call for hourly metrics.
    windowParams: (dates) => dates.map((d) => ({ dates: compact(d) })),
    recordId: metricsId,
  }),
  spec({
    name: 'trades closed',
    path: 'v2/trades/closed',
    pageLimit: 1000,
    table: 'raw.trades_closed',
    key: ['platform', 'position', 'trade_date'],
    fields: withRules(fields(`${TRADE} closeTime:ts! closePrice:num!`)),
    windowParams: (dates) => [
      { 'trade-date-from': compact(dates[0]), 'trade-date-to': compact(dates[dates.length - 1]) },
    ],
    recordId: tradeId,
    rule: closedAfterOpen,
  }),
  spec({
    name: 'trades open',
    path: 'v2/trades/open',
    pageLimit: 1000,
    table: 'raw.trades_open',
    key: ['trade_date', 'platform', 'position'],
    fields: withRules(fields(TRADE)),
    windowParams: (dates) => [
      { 'trade-date-from': compact(dates[0]), 'trade-date-to': compact(dates[dates.length - 1]) },
    ],
    recordId: tradeId,
  }),
  spec({
    name: 'regimes',
    path: 'v2/regimes/daily',
    pageLimit: 1000,
    table: 'raw.regimes_daily',
    key: ['date'],
    fields: fields(
      'date:date! market_news:json instruments:json country_economic_indicators:json news_analysis:json summary:json ' +
        'created_at:ts updated_at:ts',
    ),
    windowParams: (dates) => [{ dates: dates.map(compact).join(',') }],
    recordId: (r) => `regime of ${r.date ?? '?'}`,
  }),
];

export function endpointByName(name: string): EndpointSpec | undefined {
  return ENDPOINT_SPECS.find((e) => e.name === name);
}
