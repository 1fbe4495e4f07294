// The generated fast path (encoder.ts) against the zod schema it stands in for: on random records, valid and
// broken field by field, the fast path may decline (zod then decides) but must never accept a record zod
// rejects, and when it accepts, its CSV line and key must be csvLine's and the window's for zod's output.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENDPOINT_SPECS, type EndpointSpec } from '../../ingest/endpoints.ts';
import { compileEncoder, type Encoded } from '../../ingest/encoder.ts';
import { fields, recordSchema, type Field } from '../../ingest/fields.ts';
import { csvLine } from '../../ingest/landing.ts';

const enc = suite('ingest: fast-path encoder vs zod');

/** A small deterministic generator (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  return { next, pick, int: (n: number) => Math.floor(next() * n) };
}
type Rng = ReturnType<typeof rng>;

const ODD: unknown[] = [
  null,
  undefined,
  '',
  ' ',
  '0',
  '-0',
  '01',
  '1.50',
  '1e3',
  '1e999',
  '-1.5e-7',
  'abc',
  'a,b',
  'say "hi"',
  'two\nlines',
  'x\ry',
  '__proto__',
  0,
  -0,
  1,
  -1,
  1.5,
  2 ** 53,
  2 ** 53 - 1,
  -(2 ** 53),
  1e21,
  1e-7,
  123456789.123,
  Infinity,
  -Infinity,
  NaN,
  true,
  false,
  [],
  [1],
  {},
  { a: 1 },
  new Date(0),
  '2024-01-01',
  '2024-01-01T00:00:00Z',
  '2024-01-01T00:00:00.000Z',
  '2024-01-01T00:00:01Z',
  '20240101',
  '2024-13-45',
  '2024-01-01T09:30:00.000Z',
  '2024-01-01T09:30:00+02:00',
  '2024-01-01T09:30:00.1234-0530',
  '2024-01-01 09:30:00',
  'Buy',
  'sell',
  'SELL',
  'hold',
  'buy ',
];

/** A value zod accepts for the field, most of the time in the API's own form. */
function validValue(f: Field, r: Rng): unknown {
  switch (f.kind) {
    case 'text':
      if (f.api === 'side') return r.pick(['Buy', 'Sell', 'buy', 'SELL']);
      return r.pick(['EURUSD', 'XAUUSD.r', '', 'a,b', 'say "hi"', 'ünï', String(r.int(1e8)), r.int(1000), 1.25]);
    case 'int':
      return r.pick([r.int(100), -r.int(100), 0, String(r.int(1e6)), '-12', 2 ** 53 - 1]);
    case 'num':
      if (f.api === 'lots') return r.pick([0.01, 1, 2.5, '0.3', 1e-7, 100]);
      return r.pick([r.int(1e6) / 100, -r.int(1e4) / 7, 0, -0, '12.5', '-3', '1e3', 1e21, 123456789.123]);
    case 'date':
      return r.pick(['2024-01-01T00:00:00.000Z', '2024-02-29', '20240301', '2024-01-01T00:00:00Z']);
    case 'ts':
      return r.pick([
        '2024-01-01T09:30:00.000Z',
        '2024-01-01T10:30:00Z',
        '2024-01-01T09:30:00+02:00',
        '2024-01-02T00:00:00.5-0530',
      ]);
    case 'bool':
      return r.pick([true, false, 0, 1]);
    case 'json':
      return r.pick([{ a: [1, 'x,"y"'] }, [1, 2], 'text', 3, true, { nested: { deep: null } }]);
  }
}

function record(spec: { fields: Field[] }, r: Rng): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  for (const f of spec.fields) {
    const roll = r.next();
    if (roll < 0.06) continue; // absent
    if (roll < 0.12) rec[f.api] = null;
    else if (roll < 0.2) rec[f.api] = r.pick(ODD);
    else rec[f.api] = validValue(f, r);
  }
  if (r.next() < 0.15) rec.newField = r.pick(ODD);
  if (r.next() < 0.05) rec.another = { x: 'v, w' };
  return rec;
}

function agree(
  spec: Pick<EndpointSpec, 'fields' | 'key' | 'schema' | 'encode'>,
  raw: unknown,
  stats: { fast: number; zod: number; rejected: number },
): void {
  const out: Encoded = { key: '', line: '' };
  const fast = spec.encode(raw, out);
  const parsed = spec.schema.safeParse(raw);
  if (!parsed.success) {
    assert.not.ok(
      fast,
      `fast path accepted what zod rejects (${parsed.error.issues[0].message}): ${JSON.stringify(raw)}`,
    );
    stats.rejected++;
    return;
  }
  if (!fast) {
    stats.zod++;
    return;
  }
  stats.fast++;
  const rec = parsed.data as Record<string, unknown>;
  const known = new Set(spec.fields.map((f) => f.api));
  assert.is(out.line, csvLine(spec as EndpointSpec, rec, known), JSON.stringify(raw));
  const keyFields = spec.key.map((c) => spec.fields.find((f) => f.column === c)!.api);
  assert.is(out.key, keyFields.map((k) => String(rec[k])).join('\u0001'));
}

enc(
  'every endpoint: random valid and broken records, the fast path never accepts what zod rejects, ' +
    'same line and key when it accepts',
  () => {
    for (const spec of ENDPOINT_SPECS) {
      const r = rng(spec.name.length * 7919 + 1);
      const stats = { fast: 0, zod: 0, rejected: 0 };
      for (let i = 0; i < 3000; i++) agree(spec, record(spec, r), stats);
      // Every-field-valid records: the fast path must take them (that is its point), and zod must agree.
      for (let i = 0; i < 300; i++) {
        const rec: Record<string, unknown> = {};
        for (const f of spec.fields) rec[f.api] = validValue(f, r);
        if (spec.name === 'trades closed') rec.closeTime = rec.openTime;
        const before = stats.fast;
        agree(spec, rec, stats);
        assert.ok(
          stats.fast > before || !spec.schema.safeParse(rec).success || stats.zod > 0,
          `${spec.name}: a plain valid record left the fast path`,
        );
      }
      assert.ok(stats.fast > 100, `${spec.name}: fast path took ${stats.fast}`);
      assert.ok(stats.rejected > 100, `${spec.name}: rejected ${stats.rejected}`);
    }
  },
);

enc('the API form of a record (all fields present, plain JSON types) is always the fast path', () => {
  const spec = ENDPOINT_SPECS.find((s) => s.name === 'trades closed')!;
  const rec = JSON.parse(
    '{"tradeDate":"2024-01-01T00:00:00.000Z","broker":5,"mngr":15,"platform":5,"ticket":"10000000",' +
      '"position":"10000000","login":"100004","trdSymbol":"XAUUSD.r","stdSymbol":"XAUUSD","side":"Buy",' +
      '"lots":0.86,"contractSize":100,"qtyInBaseCrncy":86,"volumeUSD":180622.42,"stopLoss":2075.56,' +
      '"takeProfit":null,"openTime":"2024-01-01T02:58:15.000Z","openPrice":2090.1,' +
      '"closeTime":"2024-01-01T03:58:15.000Z","closePrice":2091,"duration":60,"profit":-1.5,' +
      '"commission":0,"fee":0,"swap":0,"comment":"","client_margin":1,"firm_margin":2}',
  );
  const out: Encoded = { key: '', line: '' };
  assert.ok(spec.encode(rec, out));
  assert.is(out.key, '5\u000110000000\u00012024-01-01');
  assert.is(
    out.line,
    '2024-01-01,5,15,5,10000000,10000000,100004,XAUUSD.r,XAUUSD,Buy,0.86,100,86,180622.42,2075.56,,' +
      '2024-01-01T02:58:15.000Z,2090.1,60,-1.5,0,0,0,"",1,2,2024-01-01T03:58:15.000Z,2091,\n',
  );
  // Closed before it opened: the record rule rejects it, so the fast path declines and zod words it.
  assert.not.ok(spec.encode({ ...rec, closeTime: '2024-01-01T01:00:00.000Z' }, out));
  assert.not.ok(spec.encode({ ...rec, lots: 0 }, out));
  assert.not.ok(spec.encode({ ...rec, side: 'hold' }, out));
  assert.not.ok(spec.encode([rec], out));
  assert.not.ok(spec.encode(null, out));
  assert.not.ok(spec.encode(Object.assign(Object.create(null), rec), out));
});

enc(
  'closed trades: closeTime before openTime is judged as Date.parse judges it, ' +
    "also for days past a month's end and T24:00",
  () => {
    const spec = ENDPOINT_SPECS.find((s) => s.name === 'trades closed')!;
    const base = {
      tradeDate: '2024-03-01',
      platform: 1,
      position: 'p',
      login: 'l',
      side: 'Buy',
      lots: 1,
      openPrice: 1,
      closePrice: 1,
    };
    const times = [
      '2024-02-28T23:00:00.000Z',
      '2024-02-29T12:00:00.000Z',
      '2024-02-30T00:00:00.000Z',
      '2024-02-31T06:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
      '2024-03-01T12:00:00.000Z',
      '2024-02-29T24:00:00.000Z',
      '2024-03-01T24:00:00.000Z',
      '2024-03-02T00:00:00.000Z',
      '2024-04-31T00:00:00.000Z',
      '2024-05-01T00:00:00.000Z',
      '2024-03-01T12:00:00Z',
      '2024-03-01T13:00:00+02:00',
      '2024-03-01T23:59:60.000Z',
      '2024-13-01T00:00:00.000Z',
    ];
    const stats = { fast: 0, zod: 0, rejected: 0 };
    for (const openTime of times) {
      for (const closeTime of times) {
        const raw = { ...base, openTime, closeTime };
        agree(spec, raw, stats);
        const before = Date.parse(closeTime) < Date.parse(openTime);
        assert.is(spec.schema.safeParse(raw).success, !before, `${openTime} -> ${closeTime}`);
      }
    }
  },
);

enc('odd shapes: a field list of every kind, with and without a record rule', () => {
  const list = fields('id:text! n:int x:num d:date t:ts b:bool doc:json req:json! note:text');
  for (const rule of [undefined, (r: Record<string, unknown>) => (r.n === 7 ? 'n must not be 7' : undefined)]) {
    const spec = {
      fields: list,
      key: ['id'],
      schema: recordSchema(list, rule),
      encode: compileEncoder({ fields: list, key: ['id'], rule }),
    };
    const r = rng(rule ? 2 : 1);
    const stats = { fast: 0, zod: 0, rejected: 0 };
    for (let i = 0; i < 4000; i++) agree(spec, record(spec, r), stats);
    for (const v of ODD) for (const f of list) agree(spec, { id: 'a', req: 1, [f.api]: v }, stats);
    agree(spec, JSON.parse('{"id":"a","req":1,"__proto__":{"x":1}}'), stats);
    assert.ok(stats.fast > 100 && stats.rejected > 100, JSON.stringify(stats));
  }
});

enc.run();
