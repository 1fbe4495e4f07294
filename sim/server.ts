// The simulated Risk Analytics API over node:http: the real base path, endpoints, envelope and offset
// pagination, API-key auth in the query string, an optional token-bucket rate limit and switchable faults.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateFirm, type Firm, type FirmOptions } from './firm.ts';
import { paginate, paginateBytes } from './listing.ts';
import { Routes, BadRequest, ENDPOINTS } from './routes.ts';
import { TokenBucket, type RateLimit } from './ratelimit.ts';
import { FaultState, FaultsSchema, type Faults, type FaultKind } from './faults.ts';

export const BASE_PATH = '/risk-analytics/tft/external/';

export interface SimServerOptions extends FirmOptions {
  apiKey: string;
  /** 0 = a random free port. */
  port?: number;
  rateLimit?: RateLimit;
  faults?: Faults;
  /** Serve an already generated firm instead of generating one from the options. */
  firm?: Firm;
}

export interface InvalidRecord {
  endpoint: string;
  key: string;
  kind: 'lots<=0' | 'missing login' | 'non-ISO date';
}

export interface SimStats {
  requests: number;
  byStatus: Record<number, number>;
  byEndpoint: Record<string, number>;
  recordsServed: number;
  rateLimited: number;
  unauthorized: number;
  faults: Record<FaultKind, number>;
  invalidRecords: InvalidRecord[];
}

export interface SimServer {
  /** Base URL ending in /risk-analytics/tft/external/ (DPM_API_BASE_URL). */
  url: string;
  apiKey: string;
  firm: Firm;
  setFaults(faults: Faults): void;
  stats(): SimStats;
  close(): Promise<void>;
}

const ISO_FIELDS = ['openTime', 'date', 'datetime', 'createdAt'];
const COMMA = Buffer.from(',');

/** Mutates a record so it breaks the upstream schema; returns what was done, or undefined if nothing applies. */
function corrupt(rec: Record<string, unknown>, attempt: number): InvalidRecord['kind'] | undefined {
  const kinds: InvalidRecord['kind'][] = ['lots<=0', 'missing login', 'non-ISO date'];
  for (let k = 0; k < kinds.length; k++) {
    const kind = kinds[(attempt + k) % kinds.length];
    if (kind === 'lots<=0' && typeof rec.lots === 'number') {
      rec.lots = attempt % 2 === 0 ? 0 : -Math.abs(rec.lots);
      return kind;
    }
    if (kind === 'missing login' && 'login' in rec) {
      delete rec.login;
      return kind;
    }
    const field = ISO_FIELDS.find((f) => typeof rec[f] === 'string');
    if (kind === 'non-ISO date' && field) {
      const s = rec[field] as string;
      rec[field] = `${s.slice(8, 10)}/${s.slice(5, 7)}/${s.slice(0, 4)} ${s.slice(11, 19)}`;
      return kind;
    }
  }
  return undefined;
}

export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const firm = options.firm ?? generateFirm(options);
  const routes = new Routes(firm);
  const bucket = options.rateLimit ? new TokenBucket(options.rateLimit) : undefined;
  let faults = new FaultState(FaultsSchema.parse(options.faults ?? {}));
  /** Listings shifted by the duplicates fault: listing key -> from which skip, by how many records. */
  let shifts = new Map<string, { fromSkip: number; overlap: number }>();
  const stats: Omit<SimStats, 'faults'> = {
    requests: 0,
    byStatus: {},
    byEndpoint: {},
    recordsServed: 0,
    rateLimited: 0,
    unauthorized: 0,
    invalidRecords: [],
  };

  const send = (res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  };
  const fail = (res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) =>
    send(
      res,
      status,
      JSON.stringify({
        Status: status >= 500 ? 'error' : 'fail',
        Message: message,
        Time: new Date().toISOString(),
        Data: null,
      }),
      headers,
    );

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const url = new URL(req.url ?? '/', 'http://sim');
    if (req.method !== 'GET') return fail(res, 405, 'only GET is supported');
    if (!url.pathname.startsWith(BASE_PATH))
      return fail(res, 404, `unknown path ${url.pathname}; the API lives under ${BASE_PATH}`);
    const endpoint = url.pathname.slice(BASE_PATH.length).replace(/\/+$/, '');
    const q = url.searchParams;
    if (q.get('apiKey') !== options.apiKey) {
      stats.unauthorized++;
      return fail(res, 401, 'missing or invalid apiKey');
    }
    if (bucket) {
      const wait = bucket.take();
      if (wait > 0) {
        stats.rateLimited++;
        return fail(res, 429, 'rate limit exceeded', { 'Retry-After': String(wait) });
      }
    }
    stats.byEndpoint[endpoint] = (stats.byEndpoint[endpoint] ?? 0) + 1;
    const faulty = faults.applies(endpoint);
    if (faulty && faults.fire('serverErrors')) return fail(res, faults.serverErrorStatus(), 'simulated server error');
    if (faulty && faults.fire('slow')) await new Promise((r) => setTimeout(r, faults.faults.slow!.ms));

    let route: ReturnType<typeof routes.route>;
    let skip: number;
    let limit: number;
    try {
      route = routes.route(endpoint, q);
      if (!route) return fail(res, 404, `unknown endpoint ${endpoint}; known: ${ENDPOINTS.join(', ')}`);
      skip = Number(q.get('skip') ?? 0);
      limit = Number(q.get('limit') ?? route.maxLimit);
      if (!Number.isInteger(skip) || skip < 0)
        throw new BadRequest(`skip: "${q.get('skip')}" is not a non-negative integer`);
      if (!Number.isInteger(limit) || limit < 1)
        throw new BadRequest(`limit: "${q.get('limit')}" is not a positive integer`);
      limit = Math.min(limit, route.maxLimit);
    } catch (e) {
      if (e instanceof BadRequest) return fail(res, 400, e.message);
      throw e;
    }

    const listingKey = `${endpoint}?${[...q.entries()]
      .filter(([k]) => k !== 'skip' && k !== 'apiKey')
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join('&')}`;
    if (faulty && skip > 0 && !shifts.has(listingKey) && faults.fire('duplicates')) {
      shifts.set(listingKey, { fromSkip: skip, overlap: faults.faults.duplicates?.overlap ?? 3 });
    }
    const shift = shifts.get(listingKey);
    const extra = shift && skip >= shift.fromSkip ? shift.overlap : 0;
    const wantTotal = q.get('include-total') === '1' || q.get('include-total') === 'true';
    const from = Math.max(0, skip - extra);
    let json: string[];
    let items: Record<string, unknown>[];
    let total: number;
    if (route.bytes && !route.keep) {
      // Fast path (unfiltered trades): the page is a few slices of the days' cached JSON text.
      const page = paginateBytes(route.bytes, from, limit);
      route.served?.(page);
      total = page.total;
      if (!(faulty && page.count > 0 && faults.fire('invalid'))) {
        stats.recordsServed += page.count;
        const chunks: Buffer[] = [Buffer.from(`{"Status":"ok","Time":"${new Date().toISOString()}","Data":{"data":[`)];
        for (const [i, p] of page.parts.entries()) {
          if (i > 0) chunks.push(COMMA);
          chunks.push(p);
        }
        chunks.push(
          Buffer.from(
            `],${wantTotal ? `"total":${total + extra},` : ''}"skip":${skip},"limit":${limit},"count":${page.count}}}`,
          ),
        );
        return respond(res, chunks, faulty);
      }
      // Rewriting records (invalid fault): fall back to one string per record.
      json = page.records();
      items = json.map((j) => JSON.parse(j) as Record<string, unknown>);
      corruptPage(json, items);
    } else {
      const page = paginate(route.source, from, limit, route.keep, wantTotal || route.bareList);
      json = page.json;
      items = page.items;
      total = page.total;
      if (faulty && json.length > 0 && faults.fire('invalid')) corruptPage(json, items);
    }
    stats.recordsServed += json.length;
    const time = new Date().toISOString();
    const list = `[${json.join(',')}]`;
    const body = route.bareList
      ? `{"Status":"ok","Time":"${time}","Data":${list}}`
      : `{"Status":"ok","Time":"${time}","Data":{"data":${list},${wantTotal ? `"total":${total + extra},` : ''}` +
        `"skip":${skip},"limit":${limit},"count":${json.length}}}`;
    return respond(res, body, faulty);

    /** The invalid fault: corrupts `perPage` records of the page in place and reports them. */
    function corruptPage(json: string[], items: Record<string, unknown>[]): void {
      const perPage = Math.min(json.length, faults.faults.invalid?.perPage ?? 1);
      for (let j = 0; j < perPage; j++) {
        const at = Math.floor(((j + 0.5) * json.length) / perPage);
        const rec = JSON.parse(json[at]) as Record<string, unknown>;
        const key = route!.key(items[at]);
        const kind = corrupt(rec, stats.invalidRecords.length);
        if (!kind) continue;
        json[at] = JSON.stringify(rec);
        stats.invalidRecords.push({ endpoint, key, kind });
      }
    }
  };

  /**
   * Sends a 200 body (a string, or chunks written as they are, without copying), unless the truncate or drop
   * fault cuts it (bodies are ASCII: half the bytes = half the text).
   */
  const respond = (res: ServerResponse, body: string | Buffer[], faulty: boolean) => {
    const whole = () => (typeof body === 'string' ? body : Buffer.concat(body));
    if (faulty && faults.fire('truncate')) return send(res, 200, half(whole()));
    if (faulty && faults.fire('drop')) {
      const b = whole();
      stats.byStatus[200] = (stats.byStatus[200] ?? 0) + 1;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
      res.write(half(b), () => res.destroy());
      return;
    }
    if (typeof body === 'string') return send(res, 200, body);
    stats.byStatus[200] = (stats.byStatus[200] ?? 0) + 1;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': body.reduce((n, c) => n + c.length, 0),
    });
    res.cork();
    for (const c of body) res.write(c);
    res.uncork();
    res.end();
  };

  const half = (body: string | Buffer) =>
    typeof body === 'string'
      ? body.slice(0, Math.floor(body.length / 2))
      : body.subarray(0, Math.floor(body.length / 2));

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) fail(res, 500, `simulator bug: ${e instanceof Error ? e.message : String(e)}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${BASE_PATH}`,
    apiKey: options.apiKey,
    firm,
    setFaults(f: Faults) {
      faults = new FaultState(FaultsSchema.parse(f), faults.injected);
      shifts = new Map();
    },
    stats: () => ({
      ...stats,
      byStatus: { ...stats.byStatus },
      byEndpoint: { ...stats.byEndpoint },
      faults: { ...faults.injected },
      invalidRecords: [...stats.invalidRecords],
    }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        routes.close();
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
