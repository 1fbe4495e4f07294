import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeArtifact } from '../artifacts/artifacts.ts';
import { compileNode, type CompileContext } from '../project/compile.ts';
import type { Project } from '../project/load.ts';
import { UsageError, describeDbError } from '../errors.ts';
import { buildCatalog, catalogFromManifest, type DocsCatalog, type NodeLike } from './catalog.ts';
import { renderDocs } from './render.ts';

export { buildCatalog, catalogFromManifest, type DocsCatalog, type DocNode } from './catalog.ts';
export { renderDocs, renderLineageSvg } from './render.ts';
export { layoutGraph } from './layout.ts';

/**
 * The catalog of the project as it is on disk now. Models are compiled as `dpm compile` does without a
 * database, i.e. as for a full refresh: is_incremental() is false and microbatch filters are unbounded.
 */
export function catalogFromProject(project: Project): DocsCatalog {
  const ctx: CompileContext = {
    project,
    invocationId: 'docs',
    runStartedAt: new Date().toISOString(),
    targetName: 'docs',
    fullRefresh: false,
    existing: new Map(),
  };
  return buildCatalog({
    projectName: project.config.name,
    nodes: project.nodes.values() as Iterable<NodeLike>,
    sources: [...project.sources.values()].map((s) => ({ ...s, relation: String(s.relation) })),
    compiled: (node) => {
      const graphNode = project.nodes.get(node.uniqueId);
      if (!graphNode) return undefined;
      try {
        return { sql: compileNode(graphNode, ctx) };
      } catch (err) {
        return { error: describeDbError(err) };
      }
    },
  });
}

/** The catalog of an existing manifest.json; compiled SQL comes from the compiled/ folder beside it. */
export function catalogFromManifestFile(file: string): DocsCatalog {
  if (!existsSync(file))
    throw new UsageError(
      `${file} does not exist: run dpm compile (or dpm build) first, or omit --manifest to read the project directly.`,
    );
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON (${(err as Error).message}): rerun dpm compile.`);
  }
  const compiledDir = join(dirname(file), 'compiled');
  try {
    return catalogFromManifest(manifest, (node) => {
      const path = node.path && join(compiledDir, node.path.endsWith('.sql') ? node.path : `${node.path}.sql`);
      return path && existsSync(path) ? { sql: readFileSync(path, 'utf8').trimEnd() } : undefined;
    });
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}; rerun dpm compile.`);
  }
}

/** Writes `<dir>/index.html` atomically; returns its absolute path. */
export function writeDocs(catalog: DocsCatalog, dir: string): string {
  const path = resolve(join(dir, 'index.html'));
  writeArtifact(path, renderDocs(catalog));
  return path;
}
