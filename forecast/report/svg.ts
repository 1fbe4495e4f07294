// Small inline-SVG chart primitives. The report must open from a file on a machine without internet, so
// charts are drawn here rather than by a charting library from a CDN. Every data mark carries a class
// (`pt` for points, `bar` for bars) and a <title> tooltip, which is what tests and readers rely on.
import { escapeHtml, formatMoneyShort } from './format.ts';

export const PALETTE = {
  model: '#1f5fbf',
  actual: '#2b2b2b',
  zero: '#9a9a9a',
  yesterday: '#d9822b',
  mean_7d: '#7a5195',
  oracle: '#2a9d5c',
  loss: '#c0392b',
  gain: '#2a9d5c',
  grid: '#e3e6ea',
  axis: '#6b7280',
};

export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

type Fmt = (v: number) => string;

const r2 = (v: number) => Math.round(v * 100) / 100;
const finite = (v: number) => Number.isFinite(v);

/** Round tick values covering [min, max] (the 1-2-5 steps people expect on an axis). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!finite(min) || !finite(max)) return [];
  if (min === max) {
    const pad = Math.abs(min) || 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step)
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : r2(v * 1e6) / 1e6);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

export function linearScale(domain: [number, number], range: [number, number]): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

function svgOpen(kind: string, width: number, height: number, label: string): string {
  return (
    `<svg class="chart" data-chart="${escapeHtml(kind)}" role="img" aria-label="${escapeHtml(label)}" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeHtml(label)}</title>`
  );
}

function yAxis(ticks: number[], y: (v: number) => number, x0: number, x1: number, fmt: Fmt): string {
  return ticks
    .map((t) => {
      const py = r2(y(t));
      const stroke = t === 0 ? PALETTE.axis : PALETTE.grid;
      return (
        `<line class="grid" x1="${x0}" x2="${x1}" y1="${py}" y2="${py}" stroke="${stroke}" stroke-width="1"/>` +
        `<text class="tick" x="${x0 - 6}" y="${py + 4}" text-anchor="end">${escapeHtml(fmt(t))}</text>`
      );
    })
    .join('');
}

/** Labels 20px below the axis: the lowest y label sits at the same corner and must stay clear of the first. */
function xAxisNumeric(ticks: number[], x: (v: number) => number, y0: number, y1: number, fmt: Fmt): string {
  return ticks
    .map((t) => {
      const px = r2(x(t));
      const stroke = t === 0 ? PALETTE.axis : PALETTE.grid;
      return (
        `<line class="grid" x1="${px}" x2="${px}" y1="${y0}" y2="${y1}" stroke="${stroke}" stroke-width="1"/>` +
        `<text class="tick" x="${px}" y="${y1 + 20}" text-anchor="middle">${escapeHtml(fmt(t))}</text>`
      );
    })
    .join('');
}

function axisTitles(width: number, height: number, m: Margin, xTitle?: string, yTitle?: string): string {
  let out = '';
  if (xTitle) {
    const cx = r2(m.left + (width - m.left - m.right) / 2);
    out += `<text class="axis-title" x="${cx}" y="${height - 6}" text-anchor="middle">${escapeHtml(xTitle)}</text>`;
  }
  if (yTitle) {
    const cy = r2(m.top + (height - m.top - m.bottom) / 2);
    out +=
      `<text class="axis-title" transform="translate(14 ${cy}) rotate(-90)" text-anchor="middle">` +
      `${escapeHtml(yTitle)}</text>`;
  }
  return out;
}

function legend(items: { name: string; color: string; dashed?: boolean }[], x: number, y: number): string {
  let cx = x;
  return items
    .map((it) => {
      const dash = it.dashed ? ' stroke-dasharray="4 3"' : '';
      const s =
        '<g class="legend-item">' +
        `<line x1="${cx}" x2="${cx + 18}" y1="${y}" y2="${y}" stroke="${it.color}" stroke-width="3"${dash}/>` +
        `<text x="${cx + 23}" y="${y + 4}">${escapeHtml(it.name)}</text></g>`;
      cx += 34 + it.name.length * 6.6;
      return s;
    })
    .join('');
}

/** A dashed horizontal target (e.g. nominal coverage). The label gets a white halo: it often sits over a bar. */
function referenceLine(
  ref: { value: number; label: string },
  y: (v: number) => number,
  x0: number,
  x1: number,
): string {
  const py = r2(y(ref.value));
  return (
    `<line class="reference" x1="${x0}" x2="${x1}" y1="${py}" y2="${py}" stroke="${PALETTE.oracle}" ` +
    'stroke-dasharray="6 4" stroke-width="1.5"/>' +
    `<text class="tick" x="${x1}" y="${py - 5}" text-anchor="end" ` +
    'paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round">' +
    `${escapeHtml(ref.label)}</text>`
  );
}

function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!finite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === Infinity ? [0, 1] : [lo, hi];
}

export interface ScatterPoint {
  x: number;
  y: number;
  title: string;
}

/** Points with the y = x diagonal: on the line is a perfect forecast. Axes share one scale. */
export function scatterChart(options: {
  points: ScatterPoint[];
  xTitle: string;
  yTitle: string;
  label: string;
  width?: number;
  height?: number;
  fmt?: Fmt;
}): string {
  const width = options.width ?? 520;
  const height = options.height ?? 440;
  const fmt = options.fmt ?? formatMoneyShort;
  const m: Margin = { top: 16, right: 18, bottom: 48, left: 64 };
  const pts = options.points.filter((p) => finite(p.x) && finite(p.y));
  const [lo, hi] = extent(pts.flatMap((p) => [p.x, p.y]));
  const ticks = niceTicks(lo, hi, 6);
  const dom: [number, number] = [ticks[0] ?? lo, ticks[ticks.length - 1] ?? hi];
  const x = linearScale(dom, [m.left, width - m.right]);
  const y = linearScale(dom, [height - m.bottom, m.top]);
  let out = svgOpen('scatter', width, height, options.label);
  out += yAxis(ticks, y, m.left, width - m.right, fmt) + xAxisNumeric(ticks, x, m.top, height - m.bottom, fmt);
  out +=
    `<line class="diagonal" x1="${r2(x(dom[0]))}" y1="${r2(y(dom[0]))}" ` +
    `x2="${r2(x(dom[1]))}" y2="${r2(y(dom[1]))}" ` +
    `stroke="${PALETTE.axis}" stroke-dasharray="5 4" stroke-width="1.2"/>`;
  out += '<g class="points">';
  for (const p of pts) {
    const color = p.y < 0 ? PALETTE.loss : PALETTE.model;
    out +=
      `<circle class="pt" cx="${r2(x(p.x))}" cy="${r2(y(p.y))}" r="3" fill="${color}" fill-opacity="0.45">` +
      `<title>${escapeHtml(p.title)}</title></circle>`;
  }
  out += `</g>${axisTitles(width, height, m, options.xTitle, options.yTitle)}</svg>`;
  return out;
}

export interface LineSeries {
  name: string;
  color: string;
  dashed?: boolean;
  /** One value per category (x position); NaN leaves a gap. */
  values: number[];
}

/** Lines over ordered categories (days); each value is also a point with a tooltip. */
export function lineChart(options: {
  categories: string[];
  series: LineSeries[];
  label: string;
  yTitle: string;
  fmt?: Fmt;
  width?: number;
  height?: number;
  reference?: { value: number; label: string };
}): string {
  const width = options.width ?? 860;
  const height = options.height ?? 320;
  const fmt = options.fmt ?? formatMoneyShort;
  const m: Margin = { top: 34, right: 20, bottom: 50, left: 66 };
  const n = options.categories.length;
  const all = options.series.flatMap((s) => s.values);
  if (options.reference) all.push(options.reference.value);
  const [lo, hi] = extent(all);
  const ticks = niceTicks(Math.min(lo, 0), hi, 5);
  const y = linearScale([ticks[0], ticks[ticks.length - 1]], [height - m.bottom, m.top]);
  const x = (i: number) =>
    n <= 1 ? m.left + (width - m.left - m.right) / 2 : m.left + (i / (n - 1)) * (width - m.left - m.right);
  let out = svgOpen('line', width, height, options.label);
  out += yAxis(ticks, y, m.left, width - m.right, fmt);
  const every = Math.max(1, Math.ceil(n / 8));
  options.categories.forEach((c, i) => {
    // The end labels hug the plot edges so they are not clipped by the viewBox; a label less than one step
    // before the last is dropped, or the two would overlap.
    const anchor = n > 1 && i === 0 ? 'start' : n > 1 && i === n - 1 ? 'end' : 'middle';
    if ((i % every === 0 && i <= n - 1 - every) || i === n - 1)
      out +=
        `<text class="tick" x="${r2(x(i))}" y="${height - m.bottom + 16}" text-anchor="${anchor}">` +
        `${escapeHtml(c)}</text>`;
  });
  if (options.reference) out += referenceLine(options.reference, y, m.left, width - m.right);
  for (const s of options.series) {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (!finite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${r2(x(i))} ${r2(y(v))}`;
      pen = true;
    });
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    out +=
      `<g class="series" data-series="${escapeHtml(s.name)}">` +
      `<path class="line" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`;
    s.values.forEach((v, i) => {
      if (!finite(v)) return;
      const title = escapeHtml(`${s.name}, ${options.categories[i]}: ${fmt(v)}`);
      out +=
        `<circle class="pt" cx="${r2(x(i))}" cy="${r2(y(v))}" r="${n > 60 ? 1.8 : 3}" fill="${s.color}">` +
        `<title>${title}</title></circle>`;
    });
    out += '</g>';
  }
  out += legend(
    options.series.map((s) => ({ name: s.name, color: s.color, dashed: s.dashed })),
    m.left,
    14,
  );
  out += `${axisTitles(width, height, m, undefined, options.yTitle)}</svg>`;
  return out;
}

export interface Bar {
  label: string;
  value: number;
  title?: string;
}

/** Horizontal bars, longest first as given; labels on the left so long feature names stay readable. */
export function horizontalBarChart(options: {
  bars: Bar[];
  label: string;
  fmt?: Fmt;
  width?: number;
  color?: string;
}): string {
  const width = options.width ?? 720;
  const rowH = 22;
  const labelW = 250;
  const m: Margin = { top: 8, right: 70, bottom: 8, left: labelW };
  const height = m.top + m.bottom + rowH * options.bars.length;
  const fmt = options.fmt ?? ((v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 1 }));
  const max = Math.max(0, ...options.bars.map((b) => (finite(b.value) ? b.value : 0)));
  const x = linearScale([0, max || 1], [m.left, width - m.right]);
  let out = svgOpen('bar', width, height, options.label);
  options.bars.forEach((b, i) => {
    const top = m.top + i * rowH;
    const w = finite(b.value) ? Math.max(0, r2(x(b.value) - m.left)) : 0;
    const name = b.label.length > 38 ? `${b.label.slice(0, 37)}…` : b.label;
    out += `<text class="bar-label" x="${m.left - 8}" y="${top + 15}" text-anchor="end">${escapeHtml(name)}</text>`;
    const fill = options.color ?? PALETTE.model;
    const title = escapeHtml(b.title ?? `${b.label}: ${fmt(b.value)}`);
    out +=
      `<rect class="bar" x="${m.left}" y="${top + 3}" width="${w}" height="${rowH - 6}" fill="${fill}" rx="2">` +
      `<title>${title}</title></rect>`;
    out += `<text class="bar-value" x="${m.left + w + 6}" y="${top + 15}">${escapeHtml(fmt(b.value))}</text>`;
  });
  return `${out}</svg>`;
}

/** Vertical bars grouped by category (one bar per series), with an optional horizontal reference line. */
export function groupedBarChart(options: {
  categories: string[];
  series: { name: string; color: string; values: number[] }[];
  label: string;
  yTitle: string;
  xTitle?: string;
  fmt?: Fmt;
  width?: number;
  height?: number;
  reference?: { value: number; label: string };
}): string {
  const width = options.width ?? 620;
  const height = options.height ?? 320;
  const fmt = options.fmt ?? formatMoneyShort;
  const m: Margin = { top: 34, right: 16, bottom: 50, left: 66 };
  const all = options.series.flatMap((s) => s.values);
  if (options.reference) all.push(options.reference.value);
  const [lo, hi] = extent(all);
  const ticks = niceTicks(Math.min(lo, 0), Math.max(hi, 0), 5);
  const y = linearScale([ticks[0], ticks[ticks.length - 1]], [height - m.bottom, m.top]);
  const n = options.categories.length;
  const band = (width - m.left - m.right) / Math.max(1, n);
  const barW = Math.max(2, (band * 0.8) / Math.max(1, options.series.length));
  let out = svgOpen('grouped-bar', width, height, options.label);
  out += yAxis(ticks, y, m.left, width - m.right, fmt);
  const y0 = y(0);
  options.categories.forEach((c, i) => {
    const left = m.left + i * band + band * 0.1;
    const cx = r2(m.left + i * band + band / 2);
    out += `<text class="tick" x="${cx}" y="${height - m.bottom + 16}" text-anchor="middle">${escapeHtml(c)}</text>`;
    options.series.forEach((s, k) => {
      const v = s.values[i];
      if (!finite(v)) return;
      const py = y(v);
      const title = escapeHtml(`${s.name}, ${c}: ${fmt(v)}`);
      out +=
        `<rect class="bar" x="${r2(left + k * barW)}" y="${r2(Math.min(py, y0))}" width="${r2(barW - 1)}" ` +
        `height="${r2(Math.abs(py - y0))}" fill="${s.color}"><title>${title}</title></rect>`;
    });
  });
  if (options.reference) out += referenceLine(options.reference, y, m.left, width - m.right);
  out += legend(
    options.series.map((s) => ({ name: s.name, color: s.color })),
    m.left,
    14,
  );
  out += `${axisTitles(width, height, m, options.xTitle, options.yTitle)}</svg>`;
  return out;
}
