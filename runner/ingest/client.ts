import got, { HTTPError, RequestError, type Got } from 'got';
import { z } from 'zod';
import { redact, registerSecret } from '../db/redact.ts';
import { DpmError } from '../errors.ts';

export class ApiError extends DpmError {}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Requests per second (token bucket); the real API allows 15 with bursts of 20. */
  maxRps?: number;
  burst?: number;
  timeoutMs?: number;
  retries?: number;
  /** Consecutive failed requests that open the circuit, and how long it stays open. */
  breakerThreshold?: number;
  breakerCooldownMs?: number;
  userAgent?: string;
  onRetry?: (message: string) => void;
}

export interface Page {
  records: unknown[];
  total: number | undefined;
}

const envelope = z
  .object({
    Status: z.string().optional(),
    Error: z.unknown().optional(),
    Message: z.unknown().optional(),
    Data: z.unknown().optional(),
    data: z.unknown().optional(),
  })
  .loose();
const paged = z.object({ data: z.array(z.unknown()), total: z.number().optional(), skip: z.number().optional(), limit: z.number().optional(), count: z.number().optional() }).loose();

/** Spreads requests so that at most `rate` per second start, allowing short bursts. */
class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.rate) * 1000)));
    }
  }
}

/** The Risk Analytics API: apiKey in the query, envelope unwrapped, retries, rate cap and a circuit breaker. */
export class ApiClient {
  private readonly http: Got;
  private readonly bucket: TokenBucket;
  private failures = 0;
  private openUntil = 0;
  readonly requests = { sent: 0, retried: 0 };

  constructor(private readonly options: ApiClientOptions) {
    registerSecret(options.apiKey);
    this.bucket = new TokenBucket(options.maxRps ?? 15, options.burst ?? 20);
    const retries = options.retries ?? 3;
    this.http = got.extend({
      prefixUrl: options.baseUrl.replace(/\/?$/, '/'),
      headers: { Accept: 'application/json', 'User-Agent': options.userAgent ?? 'dpm/0.1 (+risk analytics ingest)' },
      timeout: { request: options.timeoutMs ?? 120_000 },
      responseType: 'text',
      retry: {
        limit: retries,
        methods: ['GET'],
        statusCodes: [429, 500, 502, 503, 504],
        maxRetryAfter: 300_000,
        calculateDelay: ({ attemptCount, retryOptions, error, retryAfter, computedValue }) => {
          if (computedValue === 0) return 0;
          const code = (error as HTTPError).response?.statusCode;
          const wait = retryAfter ?? Math.min(30_000, 500 * 2 ** (attemptCount - 1)) + Math.floor(Math.random() * 250);
          this.requests.retried++;
          options.onRetry?.(redact(`retry ${attemptCount}/${retryOptions.limit} after ${code ?? error.code} in ${(wait / 1000).toFixed(1)}s: ${error.message}`));
          return wait;
        },
      },
      hooks: {
        beforeRetry: [async () => this.bucket.take()],
      },
    });
  }

  /**
   * One page of a listing. Truncated or non-JSON bodies are retried like 5xx; a 4xx other than 429
   * is final. Every message has the API key masked, since the key travels in the URL.
   */
  async page(path: string, params: Record<string, string>, skip: number, limit: number, includeTotal: boolean): Promise<Page> {
    const now = Date.now();
    if (now < this.openUntil) {
      throw new ApiError(`the API circuit is open after ${this.options.breakerThreshold ?? 5} consecutive failures; it half-opens at ${new Date(this.openUntil).toISOString()}. Rerun then; finished pages are kept.`);
    }
    const searchParams = { ...params, limit: String(limit), skip: String(skip), ...(includeTotal ? { 'include-total': '1' } : {}), apiKey: this.options.apiKey };
    const attempts = (this.options.retries ?? 3) + 1;
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await this.bucket.take();
      this.requests.sent++;
      let body: string;
      try {
        body = (await this.http.get(path, { searchParams })).body;
      } catch (err) {
        this.recordFailure();
        throw this.describe(err, path, skip);
      }
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        lastError = `the body is not valid JSON (${body.length} bytes, ends ${JSON.stringify(body.slice(-40))})`;
        this.requests.retried++;
        this.options.onRetry?.(`retry ${attempt}/${attempts - 1} of ${path} skip=${skip}: ${lastError}`);
        continue;
      }
      this.failures = 0;
      return unwrap(json, path, skip);
    }
    this.recordFailure();
    throw new ApiError(`${path} skip=${skip}: ${lastError} after ${attempts} tries; the window is left unfinished and resumes from its checkpoint on rerun.`);
  }

  private recordFailure(): void {
    this.failures++;
    if (this.failures >= (this.options.breakerThreshold ?? 5)) this.openUntil = Date.now() + (this.options.breakerCooldownMs ?? 60_000);
  }

  private describe(err: unknown, path: string, skip: number): ApiError {
    if (err instanceof HTTPError) {
      const status = err.response.statusCode;
      const detail = redact(String(err.response.body ?? '').slice(0, 300));
      const hint = status === 401 || status === 403 ? ' Check DPM_API_KEY.' : status === 429 ? ' The API kept rate-limiting: lower --max-rps.' : '';
      return new ApiError(redact(`${path} skip=${skip}: HTTP ${status} after retries: ${detail}.${hint}`));
    }
    if (err instanceof RequestError) return new ApiError(redact(`${path} skip=${skip}: ${err.code ?? 'request failed'}: ${err.message} (after retries)`));
    return new ApiError(redact(`${path} skip=${skip}: ${(err as Error).message}`));
  }
}

function unwrap(json: unknown, path: string, skip: number): Page {
  const env = envelope.safeParse(json);
  if (!env.success) throw new ApiError(`${path} skip=${skip}: the response is not the API's envelope: ${env.error.issues[0].message}`);
  const status = (env.data.Status ?? 'ok').toLowerCase();
  if (status === 'fail' || status === 'error') {
    throw new ApiError(`${path} skip=${skip}: the API answered ${status}: ${String(env.data.Message ?? env.data.Error ?? 'no message')}`);
  }
  const data = env.data.Data ?? env.data.data;
  if (Array.isArray(data)) return { records: data, total: undefined };
  const p = paged.safeParse(data);
  if (!p.success) throw new ApiError(`${path} skip=${skip}: Data is neither a list nor {data, total, skip, limit, count}`);
  return { records: p.data.data, total: p.data.total };
}
