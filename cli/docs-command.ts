import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { load, type CommonArgs } from './session.ts';
import { createLogger } from '../runner/log.ts';
import { catalogFromManifestFile, catalogFromProject, type DocsCatalog, writeDocs } from '../runner/docs/docs.ts';
import { loadProjectConfig } from '../runner/config/project-config.ts';

interface DocsArgs extends CommonArgs {
  out?: string;
  manifest?: string;
}

/** `dpm docs [--out DIR] [--manifest FILE]`: the static lineage site; needs no database. */
export function registerDocsCommand(cli: Argv, done: (code: number) => void): void {
  cli.command(
    'docs',
    'write the static docs site: lineage graph of every model, seed and source; columns, tests and SQL per model',
    (y) =>
      y
        .option('out', { type: 'string', describe: 'folder for index.html (default: <target-path>/docs)' })
        .option('manifest', {
          type: 'string',
          describe: 'render an existing manifest.json instead of the project on disk',
        })
        .example('dpm docs', 'write target/docs/index.html')
        .example(
          'dpm docs --manifest prod-artifacts/manifest.json --out /tmp/docs',
          'document what production last built',
        ),
    async (a) => {
      const args = a as unknown as DocsArgs;
      let catalog: DocsCatalog;
      let defaultDir: string;
      if (args.manifest) {
        const config = loadProjectConfig(resolve(args.projectDir));
        defaultDir = resolve(config.root, config['target-path'], 'docs');
        catalog = catalogFromManifestFile(resolve(args.manifest));
      } else {
        const loaded = load(args);
        defaultDir = resolve(loaded.project.config.root, loaded.project.config['target-path'], 'docs');
        catalog = catalogFromProject(loaded.project);
      }
      const path = writeDocs(catalog, args.out ? resolve(args.out) : defaultDir);
      const log = createLogger({ level: args.logLevel, json: args.json });
      const count = (k: string) => catalog.nodes.filter((n) => n.kind === k).length;
      const failed = catalog.nodes.filter((n) => n.compileError);
      for (const n of failed) log.warn(`${n.path ?? n.name}: not compiled (${n.compileError})`);
      log.info(
        `Docs for ${count('model')} models, ${count('seed')} seeds, ${count('source')} sources written to ${path}`,
        { path },
      );
      done(0);
    },
  );
}
