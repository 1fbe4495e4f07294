// The docs site in headless Chromium: `dpm docs` (no database) on the example project, and the real
// project's site, open from file:// without console errors; the lineage graph draws one box per model, seed
// and source and one arrow per dependency; hovering traces lineage, clicking opens the node's section, the
// filter filters.
import * as assert from 'uvu/assert';
import { join, resolve } from 'node:path';
import type { Page } from 'puppeteer-core';
import { catalogFromProject, writeDocs, type DocsCatalog } from '../../runner/docs/docs.ts';
import { anchorOf } from '../../runner/docs/html.ts';
import { loadProject } from '../../runner/project/load.ts';
import { runDpm } from '../helpers/cli.ts';
import { browserSuite, openFile, saveScreenshot, type BrowserContext, type OpenedPage } from './_chromium.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'tests/fixtures/project');

const t = browserSuite('docs site in headless Chromium');

/** Opens `<dir>/<name>/index.html`; the page script marks <html data-ready> when it ran. */
async function openDocs(ctx: BrowserContext, name: string): Promise<OpenedPage> {
  const opened = await openFile(ctx.browser, join(ctx.dir, name, 'index.html'));
  assert.is(
    await opened.page.$eval('html', (e) => e.getAttribute('data-ready')),
    '1',
    'the page script did not finish',
  );
  return opened;
}

/** What the project holds, counted from the loaded project rather than from the page. */
function expected(projectDir: string): { catalog: DocsCatalog; nodes: number; edges: number } {
  const project = loadProject(projectDir);
  const buildable = [...project.nodes.values()].filter(
    (n) => n.resourceType === 'model' || n.resourceType === 'seed',
  ).length;
  const catalog = catalogFromProject(project);
  return {
    catalog,
    nodes: buildable + project.sources.size,
    edges: catalog.nodes.reduce((a, n) => a + n.parents.length, 0),
  };
}

/** Every box and arrow of the lineage graph, with its size on screen. */
function graphOf(page: Page) {
  return page.$eval('svg#lineage', (svg) => ({
    nodes: [...svg.querySelectorAll('.node')].map((n) => ({
      id: n.getAttribute('data-id')!,
      width: n.getBoundingClientRect().width,
      height: n.getBoundingClientRect().height,
    })),
    edges: [...svg.querySelectorAll('.edge')].map((e) => ({
      from: e.getAttribute('data-from')!,
      to: e.getAttribute('data-to')!,
      length: (e as SVGPathElement).getTotalLength(),
    })),
  }));
}

function assertGraph(graph: Awaited<ReturnType<typeof graphOf>>, want: ReturnType<typeof expected>) {
  assert.is(graph.nodes.length, want.nodes, 'one box per model, seed and source');
  assert.equal(new Set(graph.nodes.map((n) => n.id)).size, graph.nodes.length, 'node ids are unique');
  assert.ok(
    graph.nodes.every((n) => n.width > 50 && n.height > 10),
    'every box is drawn',
  );
  assert.is(graph.edges.length, want.edges, 'one arrow per dependency');
  const ids = new Set(graph.nodes.map((n) => n.id));
  assert.ok(
    graph.edges.every((e) => ids.has(e.from) && ids.has(e.to) && e.length > 10),
    'every arrow joins two drawn boxes',
  );
  for (const n of want.catalog.nodes) {
    const into = graph.edges
      .filter((e) => e.to === n.id)
      .map((e) => e.from)
      .sort();
    assert.equal(into, n.parents, `arrows into ${n.name}`);
  }
}

/** Ancestors and descendants of `id`, and `id` itself. */
function lineageOf(catalog: DocsCatalog, id: string): string[] {
  const byId = new Map(catalog.nodes.map((n) => [n.id, n]));
  const seen = new Set([id]);
  for (const key of ['parents', 'children'] as const) {
    const stack = [id];
    while (stack.length)
      for (const next of byId.get(stack.pop()!)![key]) if (!seen.has(next) && seen.add(next)) stack.push(next);
  }
  return [...seen].sort();
}

t('the example project: graph, hover lineage, click to a section with columns and SQL, filter', async (ctx) => {
  const want = expected(EXAMPLE);
  // The real command, as a user runs it (no database).
  const run = await runDpm(['docs', '--project-dir', EXAMPLE, '--out', join(ctx.dir, 'example')], { cwd: EXAMPLE });
  assert.is(run.code, 0, run.stdout + run.stderr);
  const { page, problems } = await openDocs(ctx, 'example');
  assertGraph(await graphOf(page), want);

  // Hover: the node's whole lineage stays lit, everything else fades.
  const node = want.catalog.nodes.find((n) => n.name === 'stg_daily_pnl')!;
  const lineage = lineageOf(want.catalog, node.id);
  assert.ok(
    lineage.length > 2 && lineage.length < want.nodes,
    `stg_daily_pnl should have some but not all nodes in its lineage: ${lineage}`,
  );
  await page.hover(`.node[data-id="${node.id}"]`);
  const lit = await page.$$eval('svg#lineage.focus .node', (ns) =>
    ns
      .filter((n) => getComputedStyle(n).opacity === '1')
      .map((n) => n.getAttribute('data-id')!)
      .sort(),
  );
  assert.equal(lit, lineage, 'hover lights the lineage only');
  await page.mouse.move(1, 1);
  assert.is(
    await page.$eval('svg#lineage', (s) => s.classList.contains('focus')),
    false,
    'leaving the node clears the highlight',
  );

  // Click: the URL names the section, which is on screen with its columns and compiled SQL.
  await page.click(`.node[data-id="${node.id}"]`);
  assert.is(await page.evaluate(() => location.hash), `#${anchorOf(node.id)}`);
  const section = await page.$eval(`#${anchorOf(node.id)}`, (s) => {
    const r = s.getBoundingClientRect();
    (s.querySelector('details') as HTMLDetailsElement).open = true;
    return {
      onScreen: r.top >= -1 && r.top < window.innerHeight,
      columns: [...s.querySelectorAll('table.columns tbody tr td:first-child')].map((td) => td.textContent),
      summary: s.querySelector('details summary')?.textContent,
      sql: s.querySelector('details pre')?.textContent ?? '',
      sqlHeight: s.querySelector('details pre')!.getBoundingClientRect().height,
    };
  });
  assert.ok(section.onScreen, 'the clicked node scrolls its section into view');
  assert.equal(
    section.columns,
    node.columns.map((c) => c.name),
  );
  assert.ok(section.columns.length > 0, 'stg_daily_pnl documents its columns');
  assert.is(section.summary, 'Compiled SQL');
  assert.ok(section.sqlHeight > 0 && /select/i.test(section.sql) && !section.sql.includes('{{'), section.sql);
  assert.ok(
    section.sql.includes(want.catalog.nodes.find((n) => n.id === node.parents[0])!.relation),
    'ref() compiled to the parent relation',
  );
  assert.is(
    await page.$eval('svg#lineage', (s) => s.querySelectorAll('.node.sel').length),
    1,
    'the selected node stays marked',
  );

  // Filter: only matching index entries stay visible.
  await page.type('#filter', 'trader_');
  const visible = await page.$$eval('nav.index li', (lis) =>
    lis.filter((li) => li.getBoundingClientRect().height > 0).map((li) => li.textContent!),
  );
  const names = want.catalog.nodes.map((n) => n.name).filter((n) => n.toLowerCase().includes('trader_'));
  assert.equal(visible.sort(), names.sort());
  assert.ok(names.length > 0 && names.length < want.nodes);
  const headings = await page.$$eval('nav.index .k', (ks) =>
    ks.filter((k) => k.getBoundingClientRect().height > 0).map((k) => k.textContent),
  );
  assert.equal(headings, ['models'], 'a kind without matches hides its heading');

  assert.equal(problems, []);
  await saveScreenshot(page, join(ctx.dir, 'docs-example.png'));
  await page.close();
});

t('the real project: every model, seed and source in the graph, no console errors', async (ctx) => {
  const want = expected(ROOT);
  // What the command writes, in process: a second CLI start would only slow the test down.
  writeDocs(want.catalog, join(ctx.dir, 'dpm'));
  const { page, problems } = await openDocs(ctx, 'dpm');
  assertGraph(await graphOf(page), want);
  const sections = await page.$$eval('section.doc-node', (s) => s.length);
  assert.is(sections, want.nodes, 'one section per node');
  assert.equal(problems, []);
  // The window only: the full page of every model's section is tens of thousands of pixels tall.
  await saveScreenshot(page, join(ctx.dir, 'docs-dpm.png'), { fullPage: false });
  await page.close();
});

t.run();
