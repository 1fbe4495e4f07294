import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { acquireFileLock, type FileLock } from './file-lock.ts';

export interface EmbeddedServer {
  db: PGlite;
  port: number;
  stop(): Promise<void>;
}

/**
 * Opens the embedded database and serves it on a loopback port, so knex and pg talk to it exactly as
 * to a PostgreSQL server. PGlite is one backend session: one process may own a data directory, and
 * advisory locks mean nothing across its multiplexed connections, hence the directory lock file.
 */
export async function startEmbeddedServer(dataDir: string, lockWaitMs = 0, fresh = false): Promise<EmbeddedServer> {
  let lock: FileLock | undefined;
  if (dataDir !== 'memory://') {
    mkdirSync(dirname(dataDir), { recursive: true });
    lock = await acquireFileLock(`${dataDir}.lock`, 'the embedded database', lockWaitMs);
    // Only the lock's owner may wipe the directory: another process may be using it.
    if (fresh) rmSync(dataDir, { recursive: true, force: true });
  }
  try {
    const db = await PGlite.create(dataDir === 'memory://' ? undefined : dataDir);
    const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' });
    await server.start();
    const address = (server as unknown as { server: { address(): { port: number } } }).server.address();
    return {
      db,
      port: address.port,
      async stop() {
        await server.stop();
        await db.close();
        lock?.release();
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}
