import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fieldsMarkdown } from '../../ingest/field-docs.ts';
import { ENDPOINT_SPECS } from '../../ingest/endpoints.ts';

const t = suite('ingest: docs/ingest.md is in sync with the field tables');

t('the field mapping in the docs is generated from ingest/endpoints.ts', () => {
  const doc = readFileSync(new URL('../../docs/ingest.md', import.meta.url), 'utf8');
  const m = /<!-- fields:start -->\n([\s\S]*?)\n<!-- fields:end -->/.exec(doc);
  assert.ok(m, 'fields markers missing in docs/ingest.md');
  assert.is(m![1], fieldsMarkdown(), 'regenerate the table with fieldsMarkdown() from ingest/field-docs.ts');
  for (const spec of ENDPOINT_SPECS) for (const f of spec.fields) assert.ok(m![1].includes(`| \`${f.api}\` |`), f.api);
});

t.run();
