/**
 * CPU used by the Postgres server on behalf of one database: the sum over the backend processes serving
 * that database (from pg_stat_activity) of their user + system time in /proc/<pid>/stat. It isolates a
 * benchmark's database from other users of the same Postgres server (other test runs on the machine),
 * which the machine-wide "other" figure cannot.
 *
 * Only when the Postgres server runs on this machine and /proc is readable (Linux, same PID namespace,
 * permission to read another user's stat); otherwise `available` is false and figures are NaN. It
 * leaves out Postgres's shared background processes (WAL writer, checkpointer, background writer),
 * which work for every database at once. A backend that exits during the window loses its share.
 */
import { procCpuUs } from './proc-cpu.js';

export interface BackendCpu {
  available: boolean;
  /** CPU time of the database's backends during the window, in µs. */
  us: number;
  /** Backends seen at the start and at the end. */
  backends: number;
}

/**
 * Starts measuring the backends of `database`, queried through `adminUrl` (a connection to another
 * database on the same server, so that it is not counted itself).
 */
export async function pgBackendCpu(adminUrl: string, database: string): Promise<{ stop(): Promise<BackendCpu> }> {
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const host = new URL(adminUrl).hostname;
  const local = host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '';
  const sample = async (): Promise<Map<number, number>> => {
    const res = await admin.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [database]);
    const out = new Map<number, number>();
    for (const { pid } of res.rows) {
      const us = procCpuUs(pid);
      if (us !== undefined) out.set(pid, us);
    }
    return out;
  };
  let before: Map<number, number>;
  let available: boolean;
  try {
    before = await sample();
    available = local && before.size > 0;
  } catch (err) {
    await admin.end().catch(() => undefined);
    throw err;
  }
  return {
    async stop(): Promise<BackendCpu> {
      try {
        const after = await sample();
        if (!available) return { available: false, us: NaN, backends: 0 };
        let us = 0;
        // A backend started during the window counts whole; one that exited is missing (rare: the pools keep theirs).
        for (const [pid, t] of after) us += t - (before.get(pid) ?? 0);
        return { available: true, us, backends: new Set([...before.keys(), ...after.keys()]).size };
      } finally {
        await admin.end().catch(() => undefined);
      }
    },
  };
}
