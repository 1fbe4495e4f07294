import { ApiClient } from '../ingest/client.ts';
import type { OracleSource } from '../forecast/evaluate-model.ts';

/**
 * The simulator's `_sim/oracle` listing (not part of the real API): the median net profit the generator
 * expected, the best achievable forecast under absolute error. Undefined when no simulator answers.
 */
export function simulatorOracle(env = process.env): OracleSource | undefined {
  if (!env.DPM_API_BASE_URL || !env.DPM_API_KEY) return undefined;
  const client = new ApiClient({ baseUrl: env.DPM_API_BASE_URL, apiKey: env.DPM_API_KEY, maxRps: 50, retries: 1 });
  return async (predictionDate) => {
    const out = new Map<string, number>();
    try {
      for (let skip = 0; ; skip += 1000) {
        const page = await client.page('_sim/oracle', { dates: predictionDate.replace(/-/g, '') }, skip, 1000, true);
        for (const r of page.records as { accountId: string; medianNetProfit: number }[])
          out.set(r.accountId, r.medianNetProfit);
        if (page.records.length < 1000) break;
      }
    } catch {
      return undefined;
    }
    return out;
  };
}
