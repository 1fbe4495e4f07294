// A failed unit test's differing rows as a table, in the shape of dbt's "actual differs from expected" output.

export interface DiffRow {
  /** The row's cells as PostgreSQL prints them (null = NULL). */
  cells: (string | null)[];
  /** How many times the model returned this row, and how many times it was expected. */
  actual: number;
  expected: number;
}

const SHOWN = 30;

/** The table (`+++` only in the model's output, `---` expected but missing) and the count of differing rows. */
export function formatDiff(columns: string[], rows: DiffRow[]): { text: string; failures: number } {
  const lines: string[][] = [];
  for (const r of rows) {
    const cells = r.cells.map((c) => (c === null ? 'NULL' : JSON.stringify(c).slice(1, -1)));
    for (let i = r.expected; i < r.actual; i++) lines.push(['+++', ...cells]);
    for (let i = r.actual; i < r.expected; i++) lines.push(['---', ...cells]);
  }
  const table = [['@@', ...columns], ...lines.slice(0, SHOWN)];
  const widths = table[0].map((_, i) => Math.max(...table.map((l) => l[i].length)));
  const text = table.map((l) =>
    l
      .map((c, i) => c.padEnd(widths[i]))
      .join(' | ')
      .trimEnd(),
  );
  if (lines.length > SHOWN) text.push(`... and ${lines.length - SHOWN} more differing rows`);
  const legend = 'actual differs from expected (+++ returned by the model but not expected, --- expected but missing):';
  return { text: [legend, '', ...text].join('\n'), failures: lines.length };
}
