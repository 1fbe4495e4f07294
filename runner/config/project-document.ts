// A project file (dpm.yml, dbt_project.yml, profiles.yml) as YAML data plus the line of any key, for messages.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { ProjectError } from '../errors.ts';

export interface ProjectDocument {
  data: Record<string, unknown>;
  lineOf(path: string[]): number | undefined;
}

/** Parses `path`; a YAML error or a file that is not a mapping names `name` and the line. */
export function readProjectDocument(path: string, name: string): ProjectDocument {
  const text = readFileSync(path, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new ProjectError(name, e.linePos?.[0].line, e.message.split('\n')[0]);
  }
  const data = doc.toJS() ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ProjectError(name, 1, 'expected a mapping of keys');
  return {
    data,
    lineOf: (path) => {
      const node = doc.getIn(path, true) as { range?: [number, number] } | undefined;
      return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    },
  };
}
