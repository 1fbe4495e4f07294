// The COPY encoding of validated records: what csv-parse (and so PostgreSQL's CSV COPY) reads back must be
// the value itself, NULL must stay distinct from '', and unknown API fields go to the extra JSON column.
import { parse } from 'csv-parse/sync';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { EndpointSpec } from '../../ingest/endpoints.ts';
import { fields } from '../../ingest/fields.ts';
import { csvLine } from '../../ingest/landing.ts';

const csv = suite('ingest: CSV lines for COPY');
const spec = { fields: fields('name:text n:num ok:bool doc:json note:text') } as unknown as EndpointSpec;
const known = new Set(spec.fields.map((f) => f.api));
const read = (line: string) => parse(line, { relax_quotes: false, quote: '"', escape: '"' })[0] as string[];

csv('delimiters, quotes, line breaks and empty strings round-trip; plain values are written bare', () => {
  for (const name of ['EURUSD', 'a,b', 'say "hi"', 'two\nlines', 'cr\rhere', '', ' padded ', '\\.', 'ünïcode']) {
    const line = csvLine(spec, { name, n: 1.5, ok: true, doc: { a: 'x,"y"' }, note: null }, known);
    const cells = read(line);
    assert.is(cells[0], name, JSON.stringify(name));
    assert.equal(cells.slice(1), ['1.5', 't', JSON.stringify({ a: 'x,"y"' }), '', '']);
  }
  assert.is(csvLine(spec, { name: 'EURUSD', n: -2, ok: false, doc: null, note: 'x' }, known), 'EURUSD,-2,f,,x,\n');
});

csv("NULL is an unquoted empty field and '' a quoted one, as COPY ... (FORMAT csv) tells them apart", () => {
  assert.is(csvLine(spec, { name: null, n: null, ok: null, doc: null, note: '' }, known), ',,,,"",\n');
});

csv('unknown API fields are kept as JSON in the last column', () => {
  const cells = read(
    csvLine(spec, { name: 'a', n: 1, ok: true, doc: null, note: null, newField: 'v, w', other: 2 }, known),
  );
  assert.equal(JSON.parse(cells[5]), { newField: 'v, w', other: 2 });
});

csv.run();
