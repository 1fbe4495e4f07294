// Unit tests of the report and docs renderers: marks per datum, escaping, empty data, layout.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolve } from 'node:path';
import { renderReport } from '../../forecast/report/render.ts';
import { headlineOf, poolScores } from '../../forecast/report/gather.ts';
import { formatMoney, formatPct, formatNumber, formatImprovement } from '../../forecast/report/format.ts';
import { groupedBarChart, horizontalBarChart, lineChart, niceTicks, scatterChart } from '../../forecast/report/svg.ts';
import { buildManifest } from '../../runner/artifacts/manifest.ts';
import { buildCatalog, catalogFromManifest, type NodeLike } from '../../runner/docs/catalog.ts';
import { catalogFromProject } from '../../runner/docs/docs.ts';
import { depths, layoutGraph } from '../../runner/docs/layout.ts';
import { renderDocs, renderLineageSvg } from '../../runner/docs/render.ts';
import { jsonForScript } from '../../runner/docs/html.ts';
import { loadProject } from '../../runner/project/load.ts';
import { emptyReportData, sampleReportData } from './_fixtures.ts';

const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;

/** The markup of one element by id (up to the matching close of figures, which do not nest). */
function figure(html: string, id: string): string {
  const start = html.indexOf(`<figure id="${id}">`);
  assert.ok(start >= 0, `no figure #${id}`);
  return html.slice(start, html.indexOf('</figure>', start));
}

const t = suite('report renderers');

t('format: money, shares, numbers, improvements', () => {
  assert.is(formatMoney(1234.5), '$1,235');
  assert.is(formatMoney(-12.345), '\u2212$12.35');
  assert.is(formatMoney(-0.001), '$0.00');
  assert.is(formatMoney(NaN), '—');
  assert.is(formatMoney(undefined), '—');
  assert.is(formatPct(0.4123), '41.2%');
  assert.is(formatNumber(1234567), '1,234,567');
  assert.is(formatImprovement(80, 100), '20.0% lower');
  assert.is(formatImprovement(120, 100), '20.0% higher');
  assert.is(formatImprovement(1, 0), '');
});

t('niceTicks covers the range in 1-2-5 steps', () => {
  const ticks = niceTicks(-1234, 987, 5);
  assert.ok(ticks[0] <= -1234 && ticks[ticks.length - 1] >= 987, JSON.stringify(ticks));
  const step = ticks[1] - ticks[0];
  assert.ok([500, 1000].includes(step), `step ${step}`);
  assert.ok(ticks.includes(0));
  assert.equal(niceTicks(5, 5).length > 1, true);
  assert.equal(niceTicks(NaN, 1), []);
});

t('charts draw one mark per datum', () => {
  const scatter = scatterChart({
    points: Array.from({ length: 37 }, (_, i) => ({ x: i, y: -i, title: `p${i}` })).concat([
      { x: NaN, y: 1, title: 'bad' },
    ]),
    xTitle: 'x',
    yTitle: 'y',
    label: 's',
  });
  assert.is(count(scatter, /class="pt"/g), 37);
  const line = lineChart({
    categories: ['a', 'b', 'c', 'd'],
    series: [
      { name: 'm', color: '#000', values: [1, 2, NaN, 4] },
      { name: 'z', color: '#111', values: [2, 2, 2, 2] },
    ],
    label: 'l',
    yTitle: 'y',
  });
  assert.is(count(line, /class="pt"/g), 7);
  // The gap splits the model line into two pen strokes.
  assert.is(count(line.match(/data-series="m"><path class="line" d="([^"]*)"/)![1], /M/g), 2);
  const bars = horizontalBarChart({
    bars: [
      { label: 'a', value: 3 },
      { label: 'b', value: 1 },
    ],
    label: 'b',
  });
  assert.is(count(bars, /class="bar"/g), 2);
  const grouped = groupedBarChart({
    categories: ['1', '2', '3'],
    series: [
      { name: 'p', color: '#000', values: [-1, 2, 3] },
      { name: 'a', color: '#111', values: [1, NaN, 3] },
    ],
    label: 'g',
    yTitle: 'y',
  });
  assert.is(count(grouped, /class="bar"/g), 5);
  for (const svg of [scatter, line, bars, grouped]) assert.not.match(svg, /NaN|undefined|Infinity/);
});

t('full report: headline, every chart with its marks, the watch list', () => {
  const data = sampleReportData({ days: 10, accounts: 30, features: 25 });
  const html = renderReport(data);
  assert.match(html, /^<!doctype html>/);
  assert.not.match(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'self-contained: no scripts, no links out');
  assert.match(html, /v1_20240501_060000/);
  // Headline: model MAE and every baseline and the oracle in the comparison table.
  const compare = html.slice(
    html.indexOf('<table class="compare">'),
    html.indexOf('</table>', html.indexOf('<table class="compare">')),
  );
  for (const label of ['Model', 'Zero (no change)', 'Yesterday&#39;s PnL', '7-day mean PnL', 'Oracle'])
    assert.ok(compare.includes(label), label);
  assert.match(html, new RegExp(formatMoney(data.headline.model.mae).replace('$', '\\$')));
  assert.match(html, /Direction right/);
  assert.match(html, /Interval coverage/);
  assert.is(count(figure(html, 'fig-scatter'), /class="pt"/g), 300);
  // Error over time: model + 3 baselines + oracle per day; coverage: one per day.
  const error = figure(html, 'fig-error');
  assert.is(count(error, /data-chart="line"/g), 2);
  assert.is(count(error, /class="pt"/g), 10 * 5 + 10);
  assert.is(count(figure(html, 'fig-importance'), /class="bar"/g), 20, 'top 20 features');
  assert.match(figure(html, 'fig-importance'), /top 20 of 25 features/);
  assert.is(count(figure(html, 'fig-calibration'), /class="bar"/g), 10 * 2 + 10);
  const watch = html.slice(html.indexOf('<table class="watch">'));
  assert.is(count(watch.slice(0, watch.indexOf('</table>')), /<tr>/g), 1 + 20);
  assert.is(count(html, /class="flag"/g), 3);
  assert.not.match(html, /NaN|undefined|\[object Object\]/);
});

t('names from the database are escaped everywhere', () => {
  const data = sampleReportData({ days: 2, accounts: 3, features: 2 });
  const evil = '<script>alert("x")</script>&';
  data.model!.featureImportance[0].feature = evil;
  data.model!.version = `v<b>1</b>`;
  data.outcomes[0].accountId = evil;
  data.watchList[0].accountId = evil;
  data.watchList[0].reasons[1].value = evil;
  data.notes.push(`note ${evil}`);
  const html = renderReport(data);
  assert.not.ok(html.includes('<script>'), 'no raw script tag');
  assert.not.ok(html.includes('<b>1</b>'));
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;'));
});

t('empty data: every section says what is missing, no charts', () => {
  const html = renderReport(emptyReportData());
  assert.is(count(html, /<svg/g), 0);
  assert.match(html, /No accuracy figures yet/);
  assert.match(html, /nothing to plot/);
  assert.match(html, /No evaluated day yet/);
  assert.match(html, /No model is registered, so there is no feature importance/);
  assert.match(html, /No calibration by decile yet/);
  assert.match(html, /No predictions are stored/);
  assert.match(html, /run dpm train/);
  assert.not.match(html, /NaN|undefined/);
});

t('headline falls back to the training holdout, and pools days by n', () => {
  const data = sampleReportData();
  const holdout = headlineOf(data.model, []);
  assert.is(holdout.source, 'holdout');
  assert.is(holdout.model.mae, 320);
  assert.is(holdout.baselines.zero?.mae, 430);
  assert.match(renderReport({ ...data, evaluations: [], headline: holdout }), /from training&#39;s holdout fold/);
  const pooled = poolScores([
    { n: 1, s: { n: 1, mae: 10, rmse: 10, directional_accuracy: 1 } },
    { n: 3, s: { n: 3, mae: 2, rmse: 2, directional_accuracy: 0 } },
  ]);
  assert.is(pooled.n, 4);
  assert.is(pooled.mae, 4);
  assert.is(pooled.rmse, Math.sqrt((100 + 3 * 4) / 4));
  assert.is(pooled.directional_accuracy, 0.25);
  assert.is(pooled.interval_coverage, undefined);
});

const d = suite('docs renderers');

const node = (name: string, deps: string[], extra: Partial<NodeLike> = {}): NodeLike => ({
  uniqueId: `model.p.${name}`,
  resourceType: 'model',
  name,
  path: `models/staging/${name}.sql`,
  dependsOn: deps.map((x) => `model.p.${x}`),
  columns: {},
  config: { materialized: 'view' },
  relation: `staging.${name}`,
  rawSql: `select 1`,
  tags: [],
  ...extra,
});

d('layout: columns by longest path, every edge points right', () => {
  const nodes = [
    { id: 'a', parents: [] },
    { id: 'b', parents: ['a'] },
    { id: 'c', parents: ['a', 'b'] },
    { id: 'd', parents: [] },
    { id: 'e', parents: ['c', 'd'] },
  ];
  const dep = depths(nodes);
  assert.equal(Object.fromEntries(dep), { a: 0, b: 1, c: 2, d: 0, e: 3 });
  const layout = layoutGraph(nodes);
  for (const n of nodes) for (const p of n.parents) assert.ok(layout.nodes.get(p)!.x < layout.nodes.get(n.id)!.x);
  const ys = new Set([...layout.nodes.values()].map((p) => `${p.x},${p.y}`));
  assert.is(ys.size, nodes.length, 'no two nodes overlap');
  // A cycle does not hang the layout.
  assert.is(
    layoutGraph([
      { id: 'x', parents: ['y'] },
      { id: 'y', parents: ['x'] },
    ]).nodes.size,
    2,
  );
  assert.is(layoutGraph([]).width, 32);
});

d('catalog: sources become parents, tests land on their columns', () => {
  const catalog = buildCatalog({
    projectName: 'p',
    nodes: [
      node('stg_a', [], {
        sources: [{ source: 'raw', table: 'a' }],
        columns: { id: { name: 'id', description: 'Key.' } },
      }),
      node('b', ['stg_a']),
      {
        uniqueId: 'test.p.unique_stg_a_id',
        resourceType: 'test',
        name: 'unique_stg_a_id',
        testName: 'unique',
        column: 'id',
        attachedTo: 'model.p.stg_a',
        kwargs: { __parent: 'model.p.stg_a' },
        dependsOn: ['model.p.stg_a'],
        config: { severity: 'error' },
      },
      {
        uniqueId: 'test.p.av',
        resourceType: 'test',
        name: 'av',
        testName: 'accepted_values',
        column: 'kind',
        attachedTo: 'model.p.stg_a',
        kwargs: { values: ['x', 'y'] },
        dependsOn: ['model.p.stg_a'],
        config: { severity: 'warn' },
      },
      {
        uniqueId: 'test.p.expr',
        resourceType: 'test',
        name: 'expr',
        testName: 'expression_is_true',
        attachedTo: 'model.p.b',
        kwargs: { expression: 'n >= 0' },
        dependsOn: ['model.p.b'],
        config: { severity: 'error' },
      },
    ],
    sources: [{ uniqueId: 'source.p.raw.a', source: 'raw', table: 'a', relation: 'raw.a' }],
  });
  const byName = new Map(catalog.nodes.map((n) => [n.name, n]));
  assert.equal(byName.get('stg_a')!.parents, ['source.p.raw.a']);
  assert.equal(byName.get('raw.a')!.children, ['model.p.stg_a']);
  assert.equal(byName.get('stg_a')!.columns.find((c) => c.name === 'id')!.tests, ['unique']);
  assert.equal(byName.get('stg_a')!.columns.find((c) => c.name === 'kind')!.tests, [
    'accepted_values(values: ["x","y"]) (warn)',
  ]);
  assert.equal(byName.get('b')!.tests, ['expression_is_true(expression: "n >= 0")']);
  const svg = renderLineageSvg(catalog.nodes);
  assert.is(count(svg, /<a class="node"/g), 3);
  assert.is(count(svg, /<path class="edge"/g), 2);
});

d('catalog and page: a snapshot is a node of its own kind between its source model and its children', () => {
  const catalog = buildCatalog({
    projectName: 'p',
    nodes: [
      node('stg_a', []),
      node('a_history', ['stg_a'], {
        uniqueId: 'snapshot.p.a_history',
        resourceType: 'snapshot',
        path: 'snapshots/a_history.sql',
        config: { strategy: 'check' },
      }),
      node('b', [], { dependsOn: ['snapshot.p.a_history'] }),
    ],
    sources: [],
  });
  const snap = catalog.nodes.find((n) => n.name === 'a_history')!;
  assert.equal([snap.kind, snap.group, snap.materialized], ['snapshot', 'snapshot', 'snapshot']);
  assert.equal([snap.parents, snap.children], [['model.p.stg_a'], ['model.p.b']]);
  const html = renderDocs(catalog);
  assert.match(html, '2 models, 1 snapshots, 0 seeds, 0 sources');
  assert.match(html, /<div class="k">snapshots<\/div><ul><li><a href="#[^"]+">a_history<\/a>/);
});

d('docs page: escapes names, descriptions and SQL; graph data cannot close its script', () => {
  const evil = '</script><img src=x onerror=alert(1)>';
  const catalog = buildCatalog({
    projectName: 'p<&>',
    nodes: [node('m', [], { description: evil, rawSql: `select '${evil}'` })],
    sources: [],
  });
  const html = renderDocs(catalog);
  assert.not.ok(html.includes('<img src=x'));
  assert.is(count(html, /<\/script>/g), 2, 'only the two script blocks close');
  assert.not.ok(jsonForScript({ a: '</script>' }).includes('</'));
  assert.match(html, /p&lt;&amp;&gt; docs/);
});

d('docs of the example project: every model, seed and source, with column docs, tests and compiled SQL', () => {
  const project = loadProject(resolve(import.meta.dirname, '../fixtures/project'));
  const catalog = catalogFromProject(project);
  const models = [...project.nodes.values()].filter((n) => n.resourceType === 'model' || n.resourceType === 'seed');
  assert.is(catalog.nodes.length, models.length + project.sources.size);
  const traders = catalog.nodes.find((n) => n.name === 'stg_traders')!;
  assert.is(traders.description, 'One row per trader.');
  assert.equal(traders.columns.find((c) => c.name === 'trader_id')!.tests.sort(), ['not_null', 'unique']);
  for (const n of catalog.nodes.filter((x) => x.kind === 'model'))
    assert.ok(n.compiledSql && !n.compiledSql.includes('{{'), `${n.name} compiled`);
  const html = renderDocs(catalog);
  assert.is(count(html, /<a class="node"/g), catalog.nodes.length);
  assert.is(count(html, /<section class="doc-node"/g), catalog.nodes.length);
  // Round trip through manifest.json (dbt's v12 shape) gives the same graph, tests and relations.
  const manifest = JSON.parse(JSON.stringify(buildManifest(project, { invocationId: 'x', database: 'postgres' })));
  const again = catalogFromManifest(manifest);
  // An ephemeral model has no relation in the manifest (the project's catalog shows its CTE's name).
  const relation = (n: (typeof catalog.nodes)[number]) => (n.materialized === 'ephemeral' ? null : n.relation);
  const shape = (c: typeof catalog) =>
    c.nodes.map((n) => [
      n.id,
      relation(n),
      n.parents,
      n.children,
      n.tests,
      n.columns.map((col) => [...col.tests].sort()),
    ]);
  assert.equal(shape(again), shape(catalog));
});

t.run();
d.run();
