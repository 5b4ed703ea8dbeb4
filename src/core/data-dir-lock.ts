import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './db/embedded-postgres.js';

export class DataDirLockedError extends Error {}

interface Entry {
  pid: number;
  role: string;
  exclusive: boolean;
  started: string;
}

/**
 * The processes using a data directory, one file each in DATA_DIR/processes/. Processes that share the
 * embedded Postgres (`serve` and `mcp`) coexist; an exclusive one (`reset-admin-password`, or any
 * process on the PGlite driver, which one process opens at a time) admits no other. Entries of dead
 * processes are pruned. Returns the function that removes this process's entry.
 */
export function lockDataDir(dataDir: string, role: string, opts: { exclusive?: boolean } = {}): () => void {
  const dir = join(dataDir, 'processes');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}.json`);
  const exclusive = opts.exclusive ?? false;
  // Written first and checked after: of two processes registering at once, each sees the other.
  writeFileSync(file, JSON.stringify({ pid: process.pid, role, exclusive, started: new Date().toISOString() } satisfies Entry), { mode: 0o600 });
  const others = liveEntries(dir).filter((e) => e.pid !== process.pid);
  const conflict = exclusive ? others[0] : others.find((e) => e.exclusive);
  if (conflict) {
    rmSync(file, { force: true });
    const why = conflict.exclusive && !exclusive ? `which needs ${dataDir} to itself` : exclusive ? `and ${role} needs ${dataDir} to itself` : '';
    throw new DataDirLockedError(
      `another tradedesk process (pid ${conflict.pid}, ${conflict.role}) is using ${dataDir}${why ? `, ${why}` : ''}. ` +
        'Stop it, or use another DATA_DIR.',
    );
  }
  return () => rmSync(file, { force: true });
}

/** The live processes registered in the data directory. */
export function dataDirProcesses(dataDir: string): Entry[] {
  return liveEntries(join(dataDir, 'processes'));
}

function liveEntries(dir: string): Entry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const live: Entry[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const pid = Number(name.slice(0, -5));
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (!isAlive(pid)) {
      rmSync(join(dir, name), { force: true });
      continue;
    }
    try {
      live.push(JSON.parse(readFileSync(join(dir, name), 'utf8')) as Entry);
    } catch {
      live.push({ pid, role: 'starting', exclusive: false, started: '' }); // being written right now
    }
  }
  return live;
}

