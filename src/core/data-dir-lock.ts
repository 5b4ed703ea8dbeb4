import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirLockedError extends Error {}

/**
 * Embedded PGlite must be opened by one process at a time, or its files get corrupted. A lock file
 * with our pid guards the data dir; a lock left by a dead process is taken over.
 */
export function lockDataDir(dataDir: string, role: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'server.lock');
  if (existsSync(file)) {
    try {
      const held = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; role?: string };
      if (held.pid !== process.pid && isAlive(held.pid)) {
        throw new DataDirLockedError(
          `another tradedesk process (pid ${held.pid}, ${held.role ?? 'server'}) is using ${dataDir}; the embedded database allows one process. ` +
            'Stop it, use another DATA_DIR, or point both at a Postgres server with DATABASE_URL.',
        );
      }
    } catch (err) {
      if (err instanceof DataDirLockedError) throw err;
    }
  }
  writeFileSync(file, JSON.stringify({ pid: process.pid, role, started: new Date().toISOString() }), { mode: 0o600 });
  return () => {
    try {
      const held = JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
      if (held.pid === process.pid) rmSync(file, { force: true });
    } catch {
      /* already gone */
    }
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
