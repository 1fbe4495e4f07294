import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Files under `dir` (recursively, sorted) whose names end with one of `exts`, as project-relative paths. */
export function listFiles(root: string, dir: string, exts: string[]): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (exts.some((e) => name.endsWith(e))) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(abs);
  return out;
}
