// Runs the real CLI in a child process (as a user would), capturing output and exit code.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const DPM_BIN = resolve(import.meta.dirname, '../../bin/dpm.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The caller's environment, less the database settings a test did not give (so that runs are hermetic). */
function childEnv(given: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...given, FORCE_COLOR: '0' };
  for (const k of ['DPM_DATABASE_URL', 'DPM_REGIMES_DATABASE_URL', 'DPM_REGIMES_TABLE']) if (!given?.[k]) delete env[k];
  return env;
}

export function runDpm(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((done, fail) => {
    const env = childEnv(options.env);
    const child = spawn(process.execPath, [DPM_BIN, ...args], { cwd: options.cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** Starts the CLI and returns the child, for tests that kill it mid-run. */
export function spawnDpm(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  return spawn(process.execPath, [DPM_BIN, ...args], { cwd: options.cwd, env: childEnv(options.env) });
}
