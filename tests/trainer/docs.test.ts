import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { paramsMarkdown, PARAMS } from '../../trainer/io/params.ts';

const t = suite('trainer: docs/trainer.md is in sync with the parameter table');

t('the parameter table in the docs is generated from trainer/io/params.ts', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/trainer.md', import.meta.url)), 'utf8');
  const m = /<!-- params:start -->\n([\s\S]*?)\n<!-- params:end -->/.exec(doc);
  assert.ok(m, 'params markers missing in docs/trainer.md');
  assert.is(m![1], paramsMarkdown(), 'regenerate the table with paramsMarkdown()');
  for (const p of PARAMS) assert.ok(doc.includes(`| \`${p.name}\` |`), p.name);
});

t.run();
