import got, { HTTPError, RequestError, type Got } from 'got';
import { z } from 'zod';
import { redact, registerSecret } from '../runner/db/redact.ts';
import { DpmError } from '../runner/errors.ts';

export class ApiError extends DpmError {}
/** 401/403: every further request would fail the same way, so the run stops at the first one. */
export class ApiAuthError extends ApiError {}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Requests per second (token bucket); the real API allows 15 with bursts of 20. */
  maxRps?: number;
  burst?: number;
  timeoutMs?: number;
  retries?: number;
  /** 429 answers waited out per page before giving up (they do not use up `retries`). */
  max429?: number;
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
const paged = z
  .object({
    data: z.array(z.unknown()),
    total: z.number().optional(),
    skip: z.number().optional(),
    limit: z.number().optional(),
    count: z.number().optional(),
  })
  .loose();

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
  private pausedUntil = 0;
  /** After a 429: nobody starts a request before the server's Retry-After has passed. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
    this.tokens = 0;
  }
  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (now < this.pausedUntil) {
        await sleep(this.pausedUntil - now);
        continue;
      }
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
    // Retries are ours (below), not got's: one budget for 5xx, timeouts, dropped connections and
    // truncated bodies, and 429s that wait as told without using it up.
    this.http = got.extend({
      prefixUrl: options.baseUrl.replace(/\/?$/, '/'),
      headers: { Accept: 'application/json', 'User-Agent': options.userAgent ?? 'dpm/0.1 (+risk analytics ingest)' },
      timeout: { request: options.timeoutMs ?? 120_000 },
      responseType: 'text',
      retry: { limit: 0 },
    });
  }

  /**
   * One page of a listing. 5xx, timeouts, dropped connections and truncated or non-JSON bodies are
   * retried with exponential backoff (`retries` times); a 429 waits for its Retry-After (the whole
   * client pauses, so concurrent pages do not stampede) up to `max429` times; other 4xx are final.
   * Every message has the API key masked, since the key travels in the URL.
   */
  async page(
    path: string,
    params: Record<string, string>,
    skip: number,
    limit: number,
    includeTotal: boolean,
  ): Promise<Page> {
    const now = Date.now();
    if (now < this.openUntil) {
      throw new ApiError(
        `the API circuit is open after ${this.options.breakerThreshold ?? 5} consecutive failures; ` +
          `it half-opens at ${new Date(this.openUntil).toISOString()}. Rerun then; finished pages are kept.`,
      );
    }
    // Names the request in every message: the window's dates and filters, never the key.
    const filters = Object.entries(params)
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const where = `${path}${filters ? `?${filters}` : ''} skip=${skip}`;
    const searchParams = {
      ...params,
      limit: String(limit),
      skip: String(skip),
      ...(includeTotal ? { 'include-total': '1' } : {}),
      apiKey: this.options.apiKey,
    };
    const retries = this.options.retries ?? 3;
    const max429 = this.options.max429 ?? 20;
    let failures = 0;
    let limited = 0;
    for (;;) {
      await this.bucket.take();
      this.requests.sent++;
      let problem: string;
      let wait: number;
      try {
        const body = (await this.http.get(path, { searchParams })).body;
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          throw new BadBody(
            `the body is not valid JSON (${body.length} bytes, ends ${JSON.stringify(body.slice(-40))})`,
          );
        }
        this.failures = 0;
        return unwrap(json, where);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        const status = err instanceof HTTPError ? err.response.statusCode : undefined;
        if (status === 429 && limited < max429) {
          limited++;
          wait = retryAfterMs(err as HTTPError) ?? backoff(limited);
          this.bucket.pause(wait);
          problem = `429 rate limited; Retry-After ${(wait / 1000).toFixed(1)}s`;
        } else if (retryable(err, status) && failures < retries) {
          failures++;
          wait = backoff(failures);
          problem =
            err instanceof BadBody
              ? err.message
              : status
                ? `HTTP ${status}`
                : `${(err as RequestError).code ?? 'request failed'}: ${(err as Error).message}`;
        } else {
          this.recordFailure();
          throw this.describe(err, where, failures + limited);
        }
      }
      this.requests.retried++;
      if (this.requests.retried === 1) {
        // The budget is said once, on the first retry of the run; each retry line then counts against it.
        this.options.onRetry?.(
          `retries: each request is retried up to ${retries} times after a 5xx, a timeout, a dropped ` +
            `connection or a broken body (backoff from 0.5 s), and waits out up to ${max429} rate limits ` +
            `(429, as long as Retry-After says); the circuit opens after ` +
            `${this.options.breakerThreshold ?? 5} requests in a row fail`,
        );
      }
      this.options.onRetry?.(
        redact(
          `retry ${status429(problem) ? `${limited}/${max429}` : `${failures}/${retries}`} of ${where} ` +
            `in ${(wait / 1000).toFixed(1)}s after ${problem}`,
        ),
      );
      await sleep(wait);
    }
  }

  private recordFailure(): void {
    this.failures++;
    if (this.failures >= (this.options.breakerThreshold ?? 5))
      this.openUntil = Date.now() + (this.options.breakerCooldownMs ?? 60_000);
  }

  private describe(err: unknown, where: string, retried: number): ApiError {
    if (err instanceof HTTPError) {
      const status = err.response.statusCode;
      const detail = redact(String(err.response.body ?? '').slice(0, 300));
      const auth = status === 401 || status === 403;
      const hint = auth ? ' Check DPM_API_KEY.' : status === 429 ? ' The API kept rate-limiting: lower --max-rps.' : '';
      return new (auth ? ApiAuthError : ApiError)(
        redact(`${where}: HTTP ${status}${retried ? ` after ${retried} retries` : ''}: ${detail}.${hint}`),
      );
    }
    if (err instanceof BadBody)
      return new ApiError(
        `${where}: ${err.message} after ${retried} retries; ` +
          'the window is left unfinished and resumes from its checkpoint on rerun.',
      );
    if (err instanceof RequestError)
      return new ApiError(
        redact(`${where}: ${err.code ?? 'request failed'}: ${err.message} (after ${retried} retries)`),
      );
    return new ApiError(redact(`${where}: ${(err as Error).message}`));
  }
}

class BadBody extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status429 = (problem: string) => problem.startsWith('429');
const backoff = (attempt: number) => Math.min(30_000, 500 * 2 ** (attempt - 1)) + Math.floor(Math.random() * 250);
const RETRY_CODES = new Set([
  'ETIMEDOUT',
  'ECONNRESET',
  'EADDRINUSE',
  'ECONNREFUSED',
  'EPIPE',
  'ENOTFOUND',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function retryable(err: unknown, status: number | undefined): boolean {
  if (err instanceof BadBody) return true;
  if (status !== undefined) return status >= 500 || status === 408 || status === 429;
  if (err instanceof RequestError)
    return RETRY_CODES.has(err.code) || err.name === 'ReadError' || err.name === 'TimeoutError';
  return false;
}

/** Retry-After in seconds or as an HTTP date, capped at 5 minutes. */
function retryAfterMs(err: HTTPError): number | undefined {
  const h = err.response.headers['retry-after'];
  if (!h) return undefined;
  const secs = Number(h);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(String(h)) - Date.now();
  return Number.isFinite(ms) ? Math.min(300_000, Math.max(0, ms)) : undefined;
}

function unwrap(json: unknown, where: string): Page {
  const env = envelope.safeParse(json);
  if (!env.success)
    throw new ApiError(`${where}: the response is not the API's envelope: ${env.error.issues[0].message}`);
  const status = (env.data.Status ?? 'ok').toLowerCase();
  if (status === 'fail' || status === 'error') {
    throw new ApiError(
      `${where}: the API answered ${status}: ${String(env.data.Message ?? env.data.Error ?? 'no message')}`,
    );
  }
  const data = env.data.Data ?? env.data.data;
  if (Array.isArray(data)) return { records: data, total: undefined };
  const p = paged.safeParse(data);
  if (!p.success) throw new ApiError(`${where}: Data is neither a list nor {data, total, skip, limit, count}`);
  return { records: p.data.data, total: p.data.total };
}
