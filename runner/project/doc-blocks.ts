// dbt's doc blocks: `{% docs name %}...{% enddocs %}` in .md files beside the models, and `{{ doc('name') }}`
// in yml descriptions, which the docs site and the relations' comments then show as the block's text.
import { ProjectError } from '../errors.ts';
import type { ResourceSpec } from './properties.ts';

const BLOCK = /\{%-?\s*docs\s+([A-Za-z_][\w]*)\s*-?%\}([\s\S]*?)\{%-?\s*enddocs\s*-?%\}/g;
const DOC_CALL = /\{\{\s*doc\(\s*['"]([^'"]+)['"]\s*\)\s*\}\}/g;

export class DocBlocks {
  private readonly blocks = new Map<string, { text: string; file: string; line: number }>();

  /** Reads every block of one .md file; a name defined twice is an error naming both places. */
  add(source: string, file: string): void {
    for (const m of source.matchAll(BLOCK)) {
      const line = source.slice(0, m.index).split('\n').length;
      const previous = this.blocks.get(m[1]);
      if (previous) {
        throw new ProjectError(
          file,
          line,
          `doc block '${m[1]}' is already defined in ${previous.file}:${previous.line}`,
        );
      }
      this.blocks.set(m[1], { text: m[2].trim(), file, line });
    }
  }

  /** The description with each `{{ doc('name') }}` replaced by its block; an unknown name is an error. */
  resolve(text: string | undefined, file: string, line: number): string | undefined {
    if (text === undefined || !text.includes('doc(')) return text;
    return text.replace(DOC_CALL, (_, name: string) => {
      const block = this.blocks.get(name);
      if (!block) {
        throw new ProjectError(
          file,
          line,
          `doc('${name}') names no doc block: add {% docs ${name} %}...{% enddocs %} to a .md file under models/`,
        );
      }
      return block.text;
    });
  }

  /** A copy of the spec with its own and its columns' descriptions resolved. */
  resolveSpec(spec: ResourceSpec): ResourceSpec {
    return {
      ...spec,
      description: this.resolve(spec.description, spec.file, spec.line),
      columns: spec.columns.map((c) => ({ ...c, description: this.resolve(c.description, spec.file, spec.line) })),
    };
  }
}
