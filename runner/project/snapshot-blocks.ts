// dbt's snapshots as written: `{% snapshot name %} {{ config(...) }} select ... {% endsnapshot %}` blocks in the
// .sql files of snapshot-paths, and dbt 1.9's yml entries (`snapshots: - name: x, relation: ref('y')`). The blocks
// are cut out before their bodies compile as templates, as doc blocks are, so nunjucks never sees the tag.
import { ProjectError } from '../errors.ts';
import { SNAPSHOT_META_COLUMNS, type SnapshotConfig, type SnapshotMetaColumn } from './node-config.ts';
import type { ResolvedSnapshotConfig } from './nodes.ts';

export interface SnapshotBlock {
  name: string;
  /** Line of the `{% snapshot %}` tag. */
  line: number;
  /** The text between the tags, preceded by blank lines so that its lines are the file's. */
  body: string;
}

const TAG = /\{%-?\s*(endsnapshot|snapshot)\b([^%]*?)-?%\}/g;
// What may stand outside the blocks: whitespace, Jinja and SQL comments (dbt ignores the rest without a word).
const IGNORABLE = /\{#[\s\S]*?#\}|--[^\n]*|\/\*[\s\S]*?\*\//g;

const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Every `{% snapshot %}` block of one file; unbalanced tags and stray text are errors naming the line. */
export function extractSnapshotBlocks(text: string, file: string): SnapshotBlock[] {
  const blocks: SnapshotBlock[] = [];
  let open: { name: string; line: number; bodyStart: number } | undefined;
  let outsideFrom = 0;
  for (const m of text.matchAll(TAG)) {
    const line = lineAt(text, m.index);
    if (m[1] === 'endsnapshot') {
      if (!open) throw new ProjectError(file, line, '{% endsnapshot %} without a {% snapshot name %} before it');
      const padding = '\n'.repeat(lineAt(text, open.bodyStart) - 1);
      blocks.push({ name: open.name, line: open.line, body: padding + text.slice(open.bodyStart, m.index) });
      open = undefined;
      outsideFrom = m.index + m[0].length;
      continue;
    }
    if (open) {
      throw new ProjectError(
        file,
        line,
        `{% snapshot %} inside snapshot '${open.name}': close it with {% endsnapshot %}`,
      );
    }
    const name = m[2].trim();
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
      throw new ProjectError(file, line, `write {% snapshot <name> %} with a lowercase identifier, got '${name}'`);
    }
    assertNothingBetween(text, outsideFrom, m.index, file);
    open = { name, line, bodyStart: m.index + m[0].length };
  }
  if (open) throw new ProjectError(file, open.line, `snapshot '${open.name}' has no {% endsnapshot %}: add it`);
  assertNothingBetween(text, outsideFrom, text.length, file);
  return blocks;
}

function assertNothingBetween(text: string, from: number, to: number, file: string): void {
  const rest = text.slice(from, to).replace(IGNORABLE, (c) => c.replace(/\S/g, ' '));
  const at = rest.search(/\S/);
  if (at < 0) return;
  throw new ProjectError(
    file,
    lineAt(text, from + at),
    'text outside a {% snapshot %} ... {% endsnapshot %} block: move it into a block or delete it',
  );
}

const RELATION = /^\s*(ref\(\s*['"][^'"]+['"]\s*\)|source\(\s*['"][^'"]+['"]\s*,\s*['"][^'"]+['"]\s*\))\s*$/;

/** The query of a yml snapshot (`relation: ref('x')` or `source('a', 'b')`), at the line of its entry. */
export function ymlSnapshotBody(name: string, relation: string, file: string, line: number): string {
  const m = RELATION.exec(relation);
  if (!m) {
    throw new ProjectError(
      file,
      line,
      `snapshot '${name}': relation must be ref('model') or source('source', 'table'), got ${JSON.stringify(relation)}`,
    );
  }
  return `${'\n'.repeat(line - 1)}select * from {{ ${m[1]} }}`;
}

/**
 * Applies dbt's rules across keys to a snapshot's merged config: a strategy and unique_key always, updated_at
 * for timestamp, check_cols for check; hard_deletes or its legacy form, not both.
 */
export function resolveSnapshotConfig(
  name: string,
  merged: SnapshotConfig,
  schemaOf: (custom: string | undefined) => string,
  file: string,
  line: number,
): { config: ResolvedSnapshotConfig; metaColumns: Record<SnapshotMetaColumn, string> } {
  const fail = (message: string): never => {
    throw new ProjectError(file, line, `snapshot '${name}': ${message}`);
  };
  const { strategy, unique_key } = merged;
  if (!strategy) fail("needs strategy='timestamp' (with updated_at) or strategy='check' (with check_cols)");
  if (!unique_key?.length) fail('needs unique_key: the column (or list of columns) that identifies a row');
  if (strategy === 'timestamp' && !merged.updated_at) {
    fail(
      "strategy 'timestamp' needs updated_at: add updated_at='<column>' (when the row last changed), " +
        "or use strategy='check' with check_cols",
    );
  }
  if (strategy === 'check' && !merged.check_cols) {
    fail("strategy 'check' needs check_cols: a list of the columns to compare, or 'all'");
  }
  if (merged.invalidate_hard_deletes !== undefined && merged.hard_deletes !== undefined) {
    fail('set hard_deletes only: invalidate_hard_deletes is its legacy form');
  }
  const metaColumns = Object.fromEntries(
    SNAPSHOT_META_COLUMNS.map((c) => [c, merged.snapshot_meta_column_names?.[c] ?? c]),
  ) as Record<SnapshotMetaColumn, string>;
  return {
    config: {
      ...merged,
      strategy: strategy!,
      unique_key: unique_key!,
      // target_schema is dbt's legacy setting and bypasses generate_schema_name, as in dbt.
      schema: merged.target_schema ?? schemaOf(merged.schema),
      alias: merged.alias ?? name,
      tags: merged.tags ?? [],
      enabled: merged.enabled ?? true,
      hard_deletes: merged.hard_deletes ?? (merged.invalidate_hard_deletes ? 'invalidate' : 'ignore'),
    },
    metaColumns,
  };
}
