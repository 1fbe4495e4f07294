// Turns ReportData into one self-contained HTML page: headline, plots, watch list. Pure (no I/O), so tests
// can feed it any data, including none.
import { escapeHtml, formatMoney, formatMoneyShort, formatNumber, formatPct, formatImprovement } from './format.ts';
import { BASELINES } from './gather.ts';
import { PALETTE, groupedBarChart, horizontalBarChart, lineChart, scatterChart } from './svg.ts';
import type { BaselineName, ReportData, RiskHeadline, RiskSummary, ScoreSummary, WatchRow } from './types.ts';

/** The quantile models are fitted at 5% and 95%, so a calibrated interval holds 90% of outcomes. */
export const NOMINAL_COVERAGE = 0.9;

const BASELINE_LABEL: Record<BaselineName, string> = {
  zero: 'Zero (no change)',
  yesterday: "Yesterday's PnL",
  mean_7d: '7-day mean PnL',
};
const FEATURE_BARS = 20;

export const REPORT_CSS = `
:root{--ink:#1d2430;--muted:#5b6472;--line:#e3e6ea;--bg:#f6f7f9;--card:#fff;
--accent:#1f5fbf;--loss:#c0392b;--gain:#2a9d5c}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 60px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:20px;margin:36px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:0 0 6px}
.sub{color:var(--muted);margin:0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;margin:16px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px}
.card .k{color:var(--muted);font-size:13px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:28px;font-weight:600;font-variant-numeric:tabular-nums}
.card .d{color:var(--muted);font-size:13px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px;
overflow:hidden;font-variant-numeric:tabular-nums}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef1f5;font-size:13px;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
tr.best td{font-weight:600}
.neg{color:var(--loss)}.pos{color:var(--gain)}
figure{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:14px 0;padding:14px;
overflow-x:auto}
figcaption{color:var(--muted);font-size:13.5px;margin-top:6px;max-width:860px}
figcaption + h3{margin-top:22px}
svg.chart{display:block;max-width:100%;height:auto;font:12px system-ui,sans-serif}
svg.chart .tick,svg.chart .bar-value{fill:#5b6472}svg.chart .axis-title{fill:#1d2430;font-weight:600}
svg.chart .bar-label{fill:#1d2430}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:14px}
.empty{background:#fff8e6;border:1px solid #f1d9a6;border-radius:8px;padding:10px 14px;color:#6b5414}
.reasons{margin:0;padding-left:16px;font-size:13.5px}
.flag{display:inline-block;background:var(--loss);color:#fff;border-radius:4px;padding:0 6px;font-size:12px}
details{margin-top:10px}summary{cursor:pointer;color:var(--accent)}
pre{background:#f0f2f5;padding:10px;border-radius:6px;overflow:auto;font-size:12.5px}
footer{margin-top:40px;color:var(--muted);font-size:13px}
`;

function empty(sentence: string): string {
  return `<p class="empty">${escapeHtml(sentence)}</p>`;
}

function money(v: number | null | undefined): string {
  const cls = typeof v === 'number' && v < 0 ? ' class="neg"' : '';
  return `<span${cls}>${escapeHtml(formatMoney(v))}</span>`;
}

function card(k: string, v: string, d: string): string {
  return (
    `<div class="card"><div class="k">${escapeHtml(k)}</div><div class="v">${escapeHtml(v)}</div>` +
    `<div class="d">${escapeHtml(d)}</div></div>`
  );
}

function headlineSection(data: ReportData): string {
  const h = data.headline;
  if (h.source === 'none') {
    const missing = empty(
      'No accuracy figures yet: no prediction has been evaluated against outcomes (dpm predict --evaluate) ' +
        'and the model records no holdout scores.',
    );
    return `<section id="headline"><h2>Headline</h2>${missing}</section>`;
  }
  const scope =
    h.source === 'evaluations'
      ? `Pooled over ${formatNumber(h.days)} evaluated day${h.days === 1 ? '' : 's'} ` +
        `(${h.firstDate} to ${h.lastDate}), ${formatNumber(h.n)} account-days.`
      : "No prediction has been evaluated yet; these figures are from training's holdout fold " +
        `(${formatNumber(h.n)} account-days up to ${h.lastDate}).`;
  const m = h.model;
  const rows: { name: string; s: ScoreSummary }[] = [{ name: 'Model', s: m }];
  for (const b of BASELINES) if (h.baselines[b]) rows.push({ name: BASELINE_LABEL[b], s: h.baselines[b]! });
  if (h.oracle) rows.push({ name: 'Oracle (best achievable, simulated data)', s: h.oracle });
  const bestNaive = BASELINES.map((b) => h.baselines[b]?.mae)
    .filter((v): v is number => typeof v === 'number')
    .sort((a, b) => a - b)[0];
  const cards = [
    card(
      'MAE',
      formatMoney(m.mae),
      bestNaive !== undefined
        ? `${formatImprovement(m.mae, bestNaive)} than the best naive baseline (${formatMoney(bestNaive)})`
        : 'mean absolute error per account-day',
    ),
    card(
      'Direction right',
      formatPct(m.directional_accuracy),
      'share of account-days where the sign of PnL was forecast correctly',
    ),
    card(
      'Interval coverage',
      formatPct(m.interval_coverage),
      `outcomes inside the 5–95% interval (nominal ${formatPct(NOMINAL_COVERAGE, 0)})`,
    ),
  ];
  if (h.latest)
    cards.push(
      card(
        `Latest day (${h.latest.predictionDate})`,
        formatMoney(h.latest.model.mae),
        `MAE over ${formatNumber(h.latest.n)} accounts; direction ${formatPct(h.latest.model.directional_accuracy)}`,
      ),
    );
  const table =
    '<table class="compare"><thead><tr><th>Forecast</th><th class="num">MAE</th><th class="num">vs model</th>' +
    '<th class="num">RMSE</th><th class="num">Direction right</th></tr></thead><tbody>' +
    rows
      .map(
        (r, i) =>
          `<tr${i === 0 ? ' class="best"' : ''}><td>${escapeHtml(r.name)}</td>` +
          `<td class="num">${escapeHtml(formatMoney(r.s.mae))}</td>` +
          `<td class="num">${i === 0 ? '' : escapeHtml(modelVs(m.mae, r.s.mae))}</td>` +
          `<td class="num">${escapeHtml(formatMoney(r.s.rmse))}</td>` +
          `<td class="num">${escapeHtml(formatPct(r.s.directional_accuracy))}</td></tr>`,
      )
      .join('') +
    '</tbody></table>';
  if (h.risk) cards.splice(1, 0, riskCard(h.risk));
  return (
    `<section id="headline"><h2>Headline</h2><p class="sub">${escapeHtml(scope)}</p>` +
    `<div class="cards">${cards.join('')}</div>${table}${riskTable(h.risk)}</section>`
  );
}

function riskCard(r: RiskHeadline): string {
  const oracle = r.oracle?.downsideCapture;
  return card(
    'Downside capture',
    formatPct(r.model.downsideCapture),
    "share of each day's 10% largest losses among the 10% highest-risk accounts" +
      (oracle !== undefined && oracle !== null ? ` (oracle ${formatPct(oracle)})` : ''),
  );
}

/** The risk scores side by side: how well each ranks the day's losses, and the quantiles' pinball losses. */
function riskTable(r: RiskHeadline | null | undefined): string {
  if (!r) return '';
  const rows: [string, RiskSummary | null][] = [
    ['Model: 5% quantile', r.model],
    ['Naive: trailing 30-day std', r.naive],
    ['Oracle: true 5% quantile (simulated data)', r.oracle],
  ];
  const cell = (v: number | null, f: (x: number) => string) => `<td class="num">${v === null ? '—' : f(v)}</td>`;
  const body = rows
    .filter((x): x is [string, RiskSummary] => x[1] !== null)
    .map(
      ([name, s]) =>
        `<tr><td>${escapeHtml(name)}</td>${cell(s.downsideCapture, (v) => escapeHtml(formatPct(v)))}` +
        `${cell(s.spearmanLoss, (v) => escapeHtml(formatNumber(v, 3)))}` +
        `${cell(s.pinball05, (v) => escapeHtml(formatMoney(v)))}` +
        `${cell(s.pinball95, (v) => escapeHtml(formatMoney(v)))}</tr>`,
    )
    .join('');
  const coverage =
    `Interval coverage on weekday target days ${formatPct(r.coverage.weekday ?? Number.NaN)}, ` +
    `on weekends ${formatPct(r.coverage.weekend ?? Number.NaN)} (nominal ${formatPct(NOMINAL_COVERAGE, 0)}).`;
  return (
    '<table class="compare"><thead><tr><th>Risk score</th><th class="num">Downside capture</th>' +
    '<th class="num">Spearman with loss</th><th class="num">Pinball 5%</th><th class="num">Pinball 95%</th>' +
    `</tr></thead><tbody>${body}</tbody></table><p class="sub">${escapeHtml(coverage)}</p>`
  );
}

/** How the model compares to another forecast, phrased from the model's side. */
function modelVs(model: number | undefined, other: number | undefined): string {
  const s = formatImprovement(model, other);
  return s ? `model ${s}` : '—';
}

function scatterSection(data: ReportData): string {
  if (!data.outcomes.length) {
    const missing = empty(
      'No prediction has a known outcome yet, so there is nothing to plot: ' +
        'outcomes appear once the predicted day is ingested and marts.prediction_outcomes is built.',
    );
    return `<h3>Predicted vs actual</h3>${missing}`;
  }
  const dates = [...new Set(data.outcomes.map((o) => o.predictionDate))].sort();
  const range = dates.length > 1 ? `${dates[0]} to ${dates[dates.length - 1]}` : dates[0];
  const chart = scatterChart({
    points: data.outcomes.map((o) => ({
      x: o.predicted,
      y: o.actual,
      title:
        `${o.accountId} on ${o.predictionDate}: ` +
        `predicted ${formatMoney(o.predicted)}, actual ${formatMoney(o.actual)}`,
    })),
    xTitle: 'Predicted net profit',
    yTitle: 'Actual net profit',
    label: 'Predicted against actual next-day net profit',
  });
  const sample =
    data.outcomesTotal > data.outcomes.length
      ? ` The ${formatNumber(data.outcomes.length)} most recent of ${formatNumber(data.outcomesTotal)} ` +
        'evaluated predictions are drawn.'
      : '';
  return (
    `<h3>Predicted vs actual</h3>${chart}<figcaption>Each dot is one account-day (${escapeHtml(range)}). ` +
    `Dots on the dashed diagonal were forecast exactly; red dots lost money.${escapeHtml(sample)}</figcaption>`
  );
}

function errorOverTimeSection(data: ReportData): string {
  const byDate = new Map<
    string,
    { model?: number; zero?: number; yesterday?: number; mean_7d?: number; oracle?: number }
  >();
  const at = (d: string) => byDate.get(d) ?? byDate.set(d, {}).get(d)!;
  for (const d of data.daily) at(d.predictionDate).model = d.mae;
  for (const e of data.evaluations) {
    const row = at(e.predictionDate);
    row.model ??= e.model.mae;
    for (const b of BASELINES) if (e.baselines[b]?.mae !== undefined) row[b] = e.baselines[b]!.mae;
    if (e.oracle?.mae !== undefined) row.oracle = e.oracle.mae;
  }
  const dates = [...byDate.keys()].sort();
  if (!dates.length) {
    const missing = empty(
      'No evaluated day yet: the daily error appears once predictions have outcomes ' +
        '(dpm predict --evaluate, dpm build --select marts).',
    );
    return `<h3>Error over time</h3>${missing}`;
  }
  const col = (k: 'model' | BaselineName | 'oracle') => dates.map((d) => byDate.get(d)![k] ?? NaN);
  const series = [{ name: 'Model', color: PALETTE.model, values: col('model') }];
  const labels: Record<BaselineName, string> = { zero: 'Zero', yesterday: 'Yesterday', mean_7d: '7-day mean' };
  for (const b of BASELINES)
    if (col(b).some(Number.isFinite))
      series.push({ name: labels[b], color: PALETTE[b], values: col(b), dashed: true } as (typeof series)[number]);
  if (col('oracle').some(Number.isFinite))
    series.push({ name: 'Oracle', color: PALETTE.oracle, values: col('oracle') });
  const chart = lineChart({
    categories: dates,
    series,
    label: 'Mean absolute error per day: model and baselines',
    yTitle: 'MAE per account',
  });
  let coverage = '';
  const cov = data.daily.filter((d) => d.intervalCoverage !== null);
  if (cov.length) {
    coverage = lineChart({
      categories: cov.map((d) => d.predictionDate),
      series: [{ name: 'Interval coverage', color: PALETTE.model, values: cov.map((d) => d.intervalCoverage!) }],
      reference: { value: NOMINAL_COVERAGE, label: `nominal ${formatPct(NOMINAL_COVERAGE, 0)}` },
      label: 'Share of outcomes inside the predicted interval, per day',
      yTitle: 'Coverage',
      fmt: (v) => formatPct(v, 0),
      height: 240,
    });
    coverage =
      `<h3>Interval coverage over time</h3>${coverage}` +
      '<figcaption>Days below the dashed line had more surprises than the interval promised.</figcaption>';
  }
  return (
    `<h3>Error over time</h3>${chart}<figcaption>Lower is better. ` +
    'The model should sit below the dashed naive baselines every day; ' +
    `the oracle (simulated data only) is the floor no forecast can beat.</figcaption>${coverage}`
  );
}

function importanceSection(data: ReportData): string {
  const fi = data.model?.featureImportance ?? [];
  if (!fi.length) {
    const missing = data.model
      ? 'The registered model records no feature importance.'
      : 'No model is registered, so there is no feature importance to show.';
    return `<h3>Feature importance</h3>${empty(missing)}`;
  }
  const top = fi.slice(0, FEATURE_BARS);
  const total = fi.reduce((a, f) => a + f.gain, 0) || 1;
  const chart = horizontalBarChart({
    bars: top.map((f) => ({
      label: f.feature,
      value: f.gain / total,
      title: `${f.feature}: ${formatPct(f.gain / total)} of total gain, used in ${formatNumber(f.split)} splits`,
    })),
    label: 'Feature importance by share of total split gain',
    fmt: (v) => formatPct(v),
  });
  const more = fi.length > top.length ? ` Showing the top ${top.length} of ${fi.length} features.` : '';
  return (
    `<h3>Feature importance</h3>${chart}<figcaption>` +
    "Share of the model's total loss reduction (gain) contributed by splits on each feature." +
    `${escapeHtml(more)}</figcaption>`
  );
}

function calibrationSection(data: ReportData): string {
  if (!data.deciles.length) {
    const missing = empty(
      'No calibration by decile yet: it needs evaluated predictions and marts.prediction_error_by_decile ' +
        '(dpm build --select marts).',
    );
    return `<h3>Calibration</h3>${missing}`;
  }
  const cats = data.deciles.map((d) => String(d.decile));
  const means = groupedBarChart({
    categories: cats,
    series: [
      { name: 'Mean predicted', color: PALETTE.model, values: data.deciles.map((d) => d.meanPredicted) },
      { name: 'Mean actual', color: PALETTE.actual, values: data.deciles.map((d) => d.meanActual) },
    ],
    label: 'Mean predicted and actual net profit by predicted decile',
    yTitle: 'Net profit',
    xTitle: 'Predicted decile (1 = largest predicted losses)',
  });
  const withCov = data.deciles.filter((d) => d.intervalCoverage !== null);
  const cov = withCov.length
    ? groupedBarChart({
        categories: withCov.map((d) => String(d.decile)),
        series: [
          { name: 'Interval coverage', color: PALETTE.mean_7d, values: withCov.map((d) => d.intervalCoverage!) },
        ],
        reference: { value: NOMINAL_COVERAGE, label: `nominal ${formatPct(NOMINAL_COVERAGE, 0)}` },
        label: 'Interval coverage by predicted decile',
        yTitle: 'Coverage',
        xTitle: 'Predicted decile',
        fmt: (v) => formatPct(v, 0),
      })
    : empty('The predictions carry no intervals, so their coverage cannot be measured.');
  return (
    `<h3>Calibration</h3><div class="grid2"><div>${means}</div><div>${cov}</div></div><figcaption>` +
    "Left: a calibrated model's bars match within each decile, and decile 1 should hold the real losers. " +
    "Right: each decile's share of outcomes inside the interval, " +
    `against the nominal ${formatPct(NOMINAL_COVERAGE, 0)}.</figcaption>`
  );
}

function reasonText(r: WatchRow['reasons'][number]): string {
  const value =
    r.value === null
      ? ''
      : ` = ${typeof r.value === 'number' ? formatNumber(r.value, Math.abs(r.value) < 10 ? 2 : 0) : r.value}`;
  const sign = r.contribution < 0 ? 'neg' : 'pos';
  const shown = r.contribution < 0 ? formatMoney(r.contribution) : `+${formatMoney(r.contribution)}`;
  return (
    `<li><code>${escapeHtml(r.feature)}</code>${escapeHtml(value)}: ` +
    `<span class="${sign}">${escapeHtml(shown)}</span></li>`
  );
}

function watchSection(data: ReportData): string {
  const head = `<section id="watch-list"><h2>Watch list${data.watchDate ? `: ${escapeHtml(data.watchDate)}` : ''}</h2>`;
  if (!data.watchList.length) {
    const missing = empty('No predictions are stored for this model yet: run dpm predict to forecast the next day.');
    return `${head}${missing}</section>`;
  }
  const rows = data.watchList
    .map((w, i) => {
      const flag = w.highRisk ? ' <span class="flag">high risk</span>' : '';
      const interval = w.lower === null || w.upper === null ? '—' : `${money(w.lower)} to ${money(w.upper)}`;
      const why = w.highRisk ? '<p>In the riskiest decile of the day: its 5% quantile is among the lowest.</p>' : '';
      const reasons = w.reasons.length ? `<ul class="reasons">${w.reasons.map(reasonText).join('')}</ul>` : '—';
      return (
        `<tr><td class="num">${i + 1}</td><td><code>${escapeHtml(w.accountId)}</code>${flag}</td>` +
        `<td class="num">${money(w.lower ?? w.predicted)}</td><td class="num">${money(w.predicted)}</td>` +
        `<td class="num">${interval}</td><td>${why}${reasons}</td></tr>`
      );
    })
    .join('');
  return (
    `${head}<p class="sub">The ${data.watchList.length} accounts most likely to lose big ` +
    `on ${escapeHtml(data.watchDate ?? '')} (features of ${escapeHtml(data.watchList[0].featureDate)}), ` +
    'lowest risk score first: the 5% quantile of the forecast, a loss the account exceeds one day in twenty. ' +
    'Why: SHAP contributions, how much each feature moved this risk score from the average account.</p>' +
    '<table class="watch"><thead><tr><th class="num">#</th><th>Account</th><th class="num">Risk (5% quantile)</th>' +
    '<th class="num">Predicted PnL</th><th class="num">90% interval</th><th>Why on the list</th></tr></thead>' +
    `<tbody>${rows}</tbody></table></section>`
  );
}

function modelDetails(data: ReportData): string {
  const m = data.model;
  if (!m) return '';
  const cv = m.cvMeanMae !== null ? `<p>Cross-validation mean MAE: ${escapeHtml(formatMoney(m.cvMeanMae))}.</p>` : '';
  return (
    `<details><summary>Model parameters</summary>${cv}` +
    `<pre>${escapeHtml(JSON.stringify(m.params, null, 2))}</pre></details>`
  );
}

export function renderReport(data: ReportData): string {
  const m = data.model;
  const title = m ? `PnL forecast report: ${m.version}` : 'PnL forecast report';
  const sub = m
    ? `Model ${m.version}${m.isActive ? ' (active)' : ''}, ${m.objective}, ` +
      `trained on ${m.trainStart} to ${m.trainEnd}${m.createdAt ? `, registered ${m.createdAt.slice(0, 10)}` : ''}.`
    : 'No registered model.';
  const notes = data.notes.length
    ? `<section id="notes"><h2>Missing data</h2>${data.notes.map(empty).join('')}</section>`
    : '';
  const forecastFor = data.watchDate ? ` Forecast for ${escapeHtml(data.watchDate)}.` : '';
  const footer =
    `Generated by dpm report at ${escapeHtml(data.generatedAt.replace('T', ' ').slice(0, 16))} UTC. ` +
    'Money figures are net profit per account-day in account currency; ' +
    `${escapeHtml(formatMoneyShort(1500))} means ${escapeHtml(formatMoney(1500))}.`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title><style>${REPORT_CSS}</style></head>
<body><main>
<header><h1>${escapeHtml(title)}</h1><p class="sub">${escapeHtml(sub)}${forecastFor}</p></header>
${headlineSection(data)}
<section id="plots"><h2>Plots</h2>
<figure id="fig-scatter">${scatterSection(data)}</figure>
<figure id="fig-error">${errorOverTimeSection(data)}</figure>
<figure id="fig-importance">${importanceSection(data)}</figure>
<figure id="fig-calibration">${calibrationSection(data)}</figure>
</section>
${watchSection(data)}
${notes}
${modelDetails(data)}
<footer>${footer}</footer>
</main></body></html>
`;
}
