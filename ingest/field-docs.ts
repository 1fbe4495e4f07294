// The field mapping table of docs/ingest.md, generated from the endpoint field tables so the two cannot drift
// (tests/ingest/docs.test.ts compares them).
import { ENDPOINT_SPECS } from './endpoints.ts';
import { sqlType } from './fields.ts';

/** One row per API field: its column, type and the listings that send it. */
export function fieldsMarkdown(): string {
  const rows = new Map<string, { column: string; type: string; required: boolean; sources: string[] }>();
  for (const spec of ENDPOINT_SPECS) {
    for (const f of spec.fields) {
      const row = rows.get(f.api) ?? { column: f.column, type: sqlType(f.kind), required: false, sources: [] };
      row.required ||= f.required;
      row.sources.push(spec.name);
      rows.set(f.api, row);
    }
  }
  const lines = ['| API field | column | type | required | sent by |', '|---|---|---|---|---|'];
  for (const [api, r] of rows) {
    lines.push(`| \`${api}\` | \`${r.column}\` | ${r.type} | ${r.required ? 'yes' : ''} | ${r.sources.join(', ')} |`);
  }
  return lines.join('\n');
}
