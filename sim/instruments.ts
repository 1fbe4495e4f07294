// The instruments traders use. Prices and volatilities are rough 2024 levels; the regime series moves them.
export type AssetClass = 'forex' | 'metals' | 'indices' | 'crypto' | 'energy';

export interface Instrument {
  symbol: string;
  /** Broker-side symbol spelling, as trdSymbol carries it. */
  trdSymbol: string;
  assetClass: AssetClass;
  contractSize: number;
  basePrice: number;
  /** Annualised volatility in calm markets. */
  vol: number;
  digits: number;
  /** Round-trip commission in USD per lot. */
  commissionPerLot: number;
  /** Overnight swap in USD per lot per night (negative = charged). */
  swapPerLot: number;
  /** Quote currency is USD (true) or the base is USD (false: USDJPY). */
  quoteUsd: boolean;
  tradesWeekend: boolean;
}

function inst(
  symbol: string,
  assetClass: AssetClass,
  contractSize: number,
  basePrice: number,
  vol: number,
  digits: number,
  commissionPerLot: number,
  swapPerLot: number,
  quoteUsd = true,
): Instrument {
  return {
    symbol,
    trdSymbol: assetClass === 'forex' || assetClass === 'metals' ? `${symbol}.r` : symbol,
    assetClass,
    contractSize,
    basePrice,
    vol,
    digits,
    commissionPerLot,
    swapPerLot,
    quoteUsd,
    tradesWeekend: assetClass === 'crypto',
  };
}

/** The ten symbols of the regimes series come first, in the order of upstream-facts. */
export const INSTRUMENTS: readonly Instrument[] = [
  inst('SPX500', 'indices', 1, 4800, 0.16, 2, 0, -0.6),
  inst('NDX100', 'indices', 1, 17000, 0.22, 2, 0, -2.1),
  inst('US30', 'indices', 1, 38000, 0.14, 2, 0, -4.5),
  inst('EURUSD', 'forex', 100000, 1.09, 0.07, 5, 7, -6.5),
  inst('GBPUSD', 'forex', 100000, 1.27, 0.08, 5, 7, -4.2),
  inst('USDJPY', 'forex', 100000, 148, 0.09, 3, 7, 9.8, false),
  inst('BTCUSD', 'crypto', 1, 45000, 0.55, 2, 0, -12),
  inst('ETHUSD', 'crypto', 1, 2400, 0.65, 2, 0, -1.1),
  inst('XAUUSD', 'metals', 100, 2050, 0.14, 2, 7, -22),
  inst('USOUSD', 'energy', 100, 75, 0.32, 3, 7, -3.1),
  inst('AUDUSD', 'forex', 100000, 0.66, 0.09, 5, 7, -2.3),
  inst('USDCAD', 'forex', 100000, 1.35, 0.06, 5, 7, 1.1, false),
  inst('GER40', 'indices', 1, 16800, 0.17, 2, 0, -2.4),
];

export const REGIME_SYMBOLS = INSTRUMENTS.slice(0, 10).map((i) => i.symbol);
export const CRYPTO_IDS = INSTRUMENTS.flatMap((i, k) => (i.tradesWeekend ? [k] : []));
