import { openSync, closeSync, writeSync, readFileSync, unlinkSync } from 'node:fs';
import { LockError } from '../errors.ts';

export interface FileLock {
  release(): void;
}

function holder(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock file holding the owner's pid. A lock left by a process that died (kill -9) is
 * taken over, so a crashed run never blocks the next one.
 */
export async function acquireFileLock(path: string, what: string, waitMs: number): Promise<FileLock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener('exit', release);
        try {
          if (holder(path) === process.pid) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', release);
      return { release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = holder(path);
      if (pid === undefined || !alive(pid)) {
        try {
          unlinkSync(path);
        } catch {
          /* another process took it over first */
        }
        continue;
      }
      if (Date.now() >= deadline) {
        throw new LockError(
          `${what} is in use by another dpm process (pid ${pid}; lock file ${path}). ` +
            'Wait for it to finish, pass --lock-wait SECONDS to wait, ' +
            'or point DPM_DATABASE_URL at PostgreSQL for concurrent work.',
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
