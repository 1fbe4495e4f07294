// The HTML report in headless Chromium: a real report from a small `dpm demo` (simulated firm, embedded
// database, the whole pipeline) opens from file:// without console errors, and every plot is drawn.
import * as assert from 'uvu/assert';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'puppeteer-core';
import { renderReport } from '../../forecast/report/render.ts';
import type { ReportData } from '../../forecast/report/types.ts';
import { emptyReportData, sampleReportData } from '../report/_fixtures.ts';
import { runDpm } from '../helpers/cli.ts';
import { browserSuite, openFile, saveScreenshot, type BrowserContext } from './_chromium.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The smallest firm the demo accepts; the holdout days are the evaluated days the plots show. */
const HOLDOUT_DAYS = 3;

const t = browserSuite('report in headless Chromium');

/**
 * Runs a small demo in a copy of the project (its database, model artifacts and target/ stay out of the
 * checkout); returns the report's path.
 */
async function demoReport(dir: string): Promise<string> {
  const project = join(dir, 'project');
  mkdirSync(join(project, 'tests'), { recursive: true });
  for (const p of ['dpm.yml', 'models', 'macros', 'seeds', 'tests/data'])
    cpSync(join(ROOT, p), join(project, p), { recursive: true });
  const demo = await runDpm(
    ['demo', '--accounts', '20', '--days', '45', '--holdout-days', String(HOLDOUT_DAYS), '--project-dir', project],
    { cwd: project, timeoutMs: 600_000 },
  );
  assert.is(demo.code, 0, `dpm demo failed:\n${demo.stdout.slice(-3000)}\n${demo.stderr.slice(-3000)}`);
  const report = join(project, 'target', 'report', 'index.html');
  assert.ok(demo.stdout.includes(`Report: ${report}`), demo.stdout.slice(-1000));
  return report;
}

interface Box {
  width: number;
  height: number;
}

/** Size of the chart and of its marks (`pt`, `bar`), and how many marks lie inside the chart's box. */
function chartMarks(page: Page, selector: string) {
  return page.$$eval(selector, (svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const marks = [...svg.querySelectorAll('.pt, .bar')].map((m) => m.getBoundingClientRect());
      const inside = (r: DOMRect) =>
        r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
      return {
        chart: svg.getAttribute('data-chart'),
        box: { width: box.width, height: box.height } as Box,
        marks: marks.length,
        drawn: marks.filter((r) => r.width > 0 && r.height > 0).length,
        inside: marks.filter(inside).length,
      };
    }),
  );
}

function assertDrawn(
  charts: Awaited<ReturnType<typeof chartMarks>>,
  expected: { kind: string; minMarks: number; minDrawn?: number }[],
  where: string,
) {
  assert.equal(
    charts.map((c) => c.chart),
    expected.map((e) => e.kind),
    `${where}: charts`,
  );
  charts.forEach((c, i) => {
    assert.ok(c.box.width > 100 && c.box.height > 50, `${where}: ${c.chart} chart is ${c.box.width}x${c.box.height}`);
    assert.ok(
      c.marks >= expected[i].minMarks,
      `${where}: ${c.chart} has ${c.marks} marks, expected at least ${expected[i].minMarks}`,
    );
    // Zero-height bars are honest (a value of 0), but most marks must be visible and none may fall outside.
    const minDrawn = expected[i].minDrawn ?? expected[i].minMarks;
    assert.ok(c.drawn >= minDrawn, `${where}: only ${c.drawn} of ${c.marks} marks have a size`);
    assert.is(c.inside, c.marks, `${where}: ${c.marks - c.inside} marks lie outside the ${c.chart} chart`);
  });
}

t('the demo report loads without console errors and draws every plot', async (ctx) => {
  const { page, problems } = await openFile(ctx.browser, await demoReport(ctx.dir));
  assert.equal(problems, []);
  const accountDays = Number(
    (await page.$eval('#headline .sub', (e) => e.textContent ?? ''))
      .match(/([\d,]+) account-days/)?.[1]
      .replace(/,/g, ''),
  );
  assert.ok(accountDays > 0, 'the headline pools no account-days');

  // One dot per evaluated account-day.
  const scatter = await chartMarks(page, '#fig-scatter svg.chart');
  assertDrawn(scatter, [{ kind: 'scatter', minMarks: 1 }], 'predicted vs actual');
  assert.is(scatter[0].marks, accountDays, 'one dot per evaluated account-day');

  // Daily MAE of the model and each baseline, then the daily interval coverage: one point per holdout day.
  assertDrawn(
    await chartMarks(page, '#fig-error svg.chart'),
    [
      { kind: 'line', minMarks: HOLDOUT_DAYS * 2 },
      { kind: 'line', minMarks: HOLDOUT_DAYS },
    ],
    'error over time',
  );
  const modelPoints = await page.$$eval('#fig-error svg.chart [data-series="Model"] .pt', (pts) => pts.length);
  assert.is(modelPoints, HOLDOUT_DAYS, 'one model point per evaluated day');

  const importance = await chartMarks(page, '#fig-importance svg.chart');
  assertDrawn(importance, [{ kind: 'bar', minMarks: 20 }], 'feature importance');
  assert.is(importance[0].marks, 20, 'the top 20 features');

  // Mean predicted and actual per decile, and coverage per decile.
  assertDrawn(
    await chartMarks(page, '#fig-calibration svg.chart'),
    [
      // Accounts unlikely to trade on the day predicted are forecast exactly 0 and mostly realise 0, so the
      // lowest deciles' mean predicted and mean actual bars are honestly flat.
      { kind: 'grouped-bar', minMarks: 10, minDrawn: 6 },
      { kind: 'grouped-bar', minMarks: 5 },
    ],
    'calibration',
  );

  // The watch list: the lowest 5% quantiles (the largest likely losses) first, each with its reasons.
  const watch = await page.$$eval('#watch-list table.watch tbody tr', (rows) =>
    rows.map((r) => ({
      risk: r.children[2].textContent ?? '',
      reasons: r.querySelectorAll('.reasons li').length,
      height: r.getBoundingClientRect().height,
    })),
  );
  assert.ok(watch.length > 0, 'the watch list is empty');
  const money = (s: string) => Number(s.replace('\u2212', '-').replace(/[$,]/g, ''));
  const risk = watch.map((w) => money(w.risk));
  assert.equal(
    risk,
    [...risk].sort((a, b) => a - b),
    'the watch list is sorted by its risk score (5% quantile), largest likely loss first',
  );
  assert.ok(
    watch.every((w) => w.reasons > 0 && w.height > 0),
    'every watched account shows its reasons',
  );

  // Nothing is wider than the window: no chart or table forces a horizontal scrollbar.
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.is(overflow, 0, 'the page scrolls sideways');
  await saveScreenshot(page, join(ctx.dir, 'report.png'));
  await page.close();
});

t.run();

// Pages rendered from fixed data: shapes the small demo does not reach (ten days, no data at all).
const f = browserSuite('report renderer pages in headless Chromium');

/** Renders `data` into its own folder and opens it; the page must load without a console problem. */
async function openRendered(ctx: BrowserContext, name: string, data: ReportData): Promise<Page> {
  mkdirSync(join(ctx.dir, name));
  const file = join(ctx.dir, name, 'index.html');
  writeFileSync(file, renderReport(data));
  const { page, problems } = await openFile(ctx.browser, file);
  assert.equal(problems, [], `${name} report`);
  return page;
}

f('no two labels of a chart overlap (ten days, thirty accounts, 25 features)', async (ctx) => {
  const page = await openRendered(ctx, 'sample', sampleReportData());
  const clashes = await page.$$eval('svg.chart', (svgs) =>
    svgs.flatMap((svg) => {
      const labels = [...svg.querySelectorAll('text')].map((t) => ({
        text: t.textContent,
        r: t.getBoundingClientRect(),
      }));
      const out: string[] = [];
      for (const [i, a] of labels.entries()) {
        for (const b of labels.slice(i + 1)) {
          // One pixel of tolerance: glyph boxes of neighbouring rows may touch.
          const overlap =
            Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left) > 1 &&
            Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top) > 1;
          if (overlap) out.push(`${svg.getAttribute('aria-label')}: "${a.text}" and "${b.text}"`);
        }
      }
      return out;
    }),
  );
  assert.equal(clashes, []);
  assert.is(
    await page.$$eval('svg.chart', (s) => s.length),
    6,
    'scatter, two lines, importance, two calibration charts',
  );
  await page.close();
});

f('a report with no data yet opens cleanly and says what is missing', async (ctx) => {
  const page = await openRendered(ctx, 'empty', emptyReportData());
  const empties = await page.$$eval(
    '#plots figure .empty',
    (els) => els.filter((e) => e.getBoundingClientRect().height > 0).length,
  );
  assert.is(empties, 4, 'each of the four plots explains why it is empty');
  assert.is(await page.$$eval('svg.chart', (s) => s.length), 0);
  await page.close();
});

f.run();
