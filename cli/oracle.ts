import { ApiClient } from '../ingest/client.ts';
import type { OracleForecast, OracleSource } from '../forecast/evaluate-model.ts';
import type { OracleRecord } from '../sim/firm.ts';

/**
 * The simulator's `_sim/oracle` listing (not part of the real API): the distribution the generator drew each
 * net profit from (its median, 5% and 95% quantiles and E|PnL|), the best achievable forecasts. Undefined when
 * no simulator answers.
 */
export function simulatorOracle(env = process.env): OracleSource | undefined {
  if (!env.DPM_API_BASE_URL || !env.DPM_API_KEY) return undefined;
  const client = new ApiClient({ baseUrl: env.DPM_API_BASE_URL, apiKey: env.DPM_API_KEY, maxRps: 50, retries: 1 });
  return async (predictionDate) => {
    const out: Map<string, OracleForecast> = new Map();
    try {
      for (let skip = 0; ; skip += 1000) {
        const page = await client.page('_sim/oracle', { dates: predictionDate.replace(/-/g, '') }, skip, 1000, true);
        for (const r of page.records as OracleRecord[])
          out.set(r.accountId, {
            median: r.medianNetProfit,
            q05: r.q05NetProfit,
            q95: r.q95NetProfit,
            expectedAbs: r.expectedAbsNetProfit,
          });
        if (page.records.length < 1000) break;
      }
    } catch {
      return undefined;
    }
    return out;
  };
}
