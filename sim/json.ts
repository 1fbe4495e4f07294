// Hand-written JSON for the high-volume records: JSON.stringify on millions of trade objects is the cost of
// serving, and a template over known field types is several times faster. Output parses to the same object.
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
  return `{"tradeDate":"${t.tradeDate}","broker":${t.broker},"mngr":${t.mngr},"platform":${t.platform},"ticket":"${t.ticket}","position":"${t.position}","login":"${t.login}","trdSymbol":"${t.trdSymbol}","stdSymbol":"${t.stdSymbol}","side":"${t.side}","lots":${t.lots},"contractSize":${t.contractSize},"qtyInBaseCrncy":${t.qtyInBaseCrncy},"volumeUSD":${t.volumeUSD},"stopLoss":${opt(t.stopLoss)},"takeProfit":${opt(t.takeProfit)},"openTime":"${t.openTime}","openPrice":${t.openPrice},"closeTime":"${t.closeTime}","closePrice":${t.closePrice},"duration":${t.duration},"profit":${t.profit},"commission":${t.commission},"fee":${t.fee},"swap":${t.swap},"comment":${str(t.comment)},"client_margin":${t.client_margin},"firm_margin":${t.firm_margin}}`;
}

export function openTradeJson(t: OpenTrade): string {
  return `{"tradeDate":"${t.tradeDate}","broker":${t.broker},"mngr":${t.mngr},"platform":${t.platform},"ticket":"${t.ticket}","position":"${t.position}","login":"${t.login}","trdSymbol":"${t.trdSymbol}","stdSymbol":"${t.stdSymbol}","side":"${t.side}","lots":${t.lots},"contractSize":${t.contractSize},"qtyInBaseCrncy":${t.qtyInBaseCrncy},"volumeUSD":${t.volumeUSD},"stopLoss":${opt(t.stopLoss)},"takeProfit":${opt(t.takeProfit)},"openTime":"${t.openTime}","openPrice":${t.openPrice},"duration":${t.duration},"profit":${t.profit},"commission":${t.commission},"fee":${t.fee},"swap":${t.swap},"comment":${str(t.comment)},"client_margin":${t.client_margin},"firm_margin":${t.firm_margin}}`;
}
