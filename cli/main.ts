import { resolve } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { z } from 'zod';
import { redact } from '../runner/db/redact.ts';
import { DpmError, UsageError } from '../runner/errors.ts';

type Register = (cli: Argv, done: (code: number) => void) => void;

/**
 * The command modules and the commands each registers. A command line naming one of them loads that module
 * alone: every module loaded (the trainer, the simulator, the API client) adds to each start-up, which a short
 * command such as the nightly one-day `dpm run` pays in full. Help, a typo or a command missing here loads all.
 */
export const COMMAND_MODULES: { commands: string[]; load: () => Promise<Register> }[] = [
  {
    commands: [
      'build',
      'run',
      'seed',
      'snapshot',
      'test',
      'ls',
      'compile',
      'debug',
      'migrate',
      'source',
      'run-operation',
    ],
    load: async () => (await import('./runner-commands.ts')).registerRunnerCommands,
  },
  { commands: ['ingest'], load: async () => (await import('./ingest-command.ts')).registerIngestCommand },
  { commands: ['train', 'predict'], load: async () => (await import('./forecast-command.ts')).registerTrainerCommands },
  { commands: ['pipeline'], load: async () => (await import('./pipeline-command.ts')).registerPipelineCommand },
  { commands: ['demo'], load: async () => (await import('./demo.ts')).registerDemoCommand },
  { commands: ['report'], load: async () => (await import('./report-command.ts')).registerReportCommand },
  { commands: ['docs'], load: async () => (await import('./docs-command.ts')).registerDocsCommand },
];

const EXAMPLES: [string, string][] = [
  ['dpm build --select features+', 'build the feature models, everything downstream, and their tests'],
  [
    'dpm run --select "tag:daily,config.materialized:incremental" --exclude stg_trades_open',
    'intersection and exclusion',
  ],
  ['dpm build --full-refresh --threads 4', 'the nightly full rebuild'],
];

/** Runs the CLI; returns the exit code (0 ok, 1 failed, 2 usage) instead of exiting, so tests can call it. */
export async function main(argv: string[]): Promise<number> {
  // `dpm gbdt` and `dpm sim` take their own argument syntax (LightGBM's key=value), so they bypass yargs.
  if (argv[0] === 'gbdt') {
    const { gbdtMain } = await import('../trainer/application/gbdt.ts');
    return gbdtMain(argv.slice(1));
  }
  if (argv[0] === 'sim') {
    const { simMain } = await import('./sim-command.ts');
    return simMain(argv.slice(1));
  }
  let code = 0;
  const cli: Argv = yargs(argv)
    .scriptName('dpm')
    .usage('$0 <command> [options]')
    .option('project-dir', {
      type: 'string',
      default: process.env.DPM_PROJECT_DIR ?? '.',
      describe: 'folder holding dpm.yml (or a dbt project: dbt_project.yml)',
      global: true,
    })
    .option('target', {
      type: 'string',
      describe: 'target from dpm.yml (default: DPM_DATABASE_URL, else embedded PGlite)',
      global: true,
    })
    .option('vars', { type: 'string', describe: 'YAML/JSON mapping of project vars', global: true })
    .option('profiles-dir', {
      type: 'string',
      describe: 'dbt projects: the folder of profiles.yml (default: DBT_PROFILES_DIR, the project folder, ~/.dbt)',
      global: true,
    })
    // The project loader reads profiles.yml where dbt does; the flag outranks the variable, as in dbt.
    .middleware((a) => {
      if (a.profilesDir) process.env.DBT_PROFILES_DIR = resolve(String(a.profilesDir));
    })
    .option('log-level', {
      choices: ['debug', 'info', 'warn', 'error'] as const,
      default: 'info' as const,
      global: true,
    })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable JSON lines', global: true })
    .option('lock-wait', {
      type: 'number',
      default: 0,
      describe: 'seconds to wait for another run on the same target',
      global: true,
    })
    .strict()
    .demandCommand(1, 'name a command; dpm --help lists them')
    .recommendCommands()
    .help()
    .version('0.1.0')
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      // Throwing stops yargs here; a fail handler that returns lets it run the command's handler anyway.
      throw err ?? new UsageError(`${msg}\nRun dpm --help for usage.`);
    });
  for (const [cmd, desc] of EXAMPLES) cli.example(cmd, desc);
  const done = (c: number) => {
    code = c;
  };
  try {
    const named = COMMAND_MODULES.filter((m) => m.commands.includes(argv[0]));
    for (const m of named.length ? named : COMMAND_MODULES) (await m.load())(cli, done);
    await cli.parseAsync();
  } catch (err) {
    return reportError(err);
  }
  return code;
}

export function reportError(err: unknown): number {
  if (err instanceof DpmError) {
    process.stderr.write(`Error: ${redact(err.message)}\n`);
    return err.exitCode;
  }
  if (err instanceof z.ZodError) {
    process.stderr.write(`Error: ${redact(err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))}\n`);
    return 2;
  }
  process.stderr.write(`Unexpected error: ${redact((err as Error)?.stack ?? String(err))}\n`);
  return 1;
}
