import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** The one database type the rest of the code sees, whichever driver is behind it. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /**
   * Holds a lock named `name` across every process on this database until the returned release is
   * called. Only Postgres has it: several servers (REST and a stdio MCP server) may share one Postgres,
   * while an embedded data directory admits a single process.
   */
  lockAcrossProcesses?(name: string): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Opens the database and applies the committed migrations. With a URL it is a Postgres server
 * (node-postgres pool); without one, embedded PGlite persisted under `dataDir` (or in memory when
 * `dataDir` is `memory://`). The same SQL migrations run on both.
 */
export async function openDatabase(opts: { url?: string; dataDir?: string }): Promise<Database> {
  if (opts.url) return openPostgres(opts.url);
  return openPglite(opts.dataDir ?? 'memory://');
}

async function openPostgres(url: string): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 });
  pool.on('error', () => undefined); // an idle client dropping is handled on next checkout
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot connect to the database at DATABASE_URL (${redactUrl(url)}): ${(err as Error).message}`, { cause: err });
  }
  const db = drizzle(pool, { schema }) as unknown as Db;
  await migrate(db as never, { migrationsFolder: MIGRATIONS_DIR });
  // Advisory locks are held by a session, so each holder keeps a connection for the duration. They come
  // from a pool of their own: holders waiting on the main pool could otherwise starve the very queries
  // that would let them finish.
  let lockPool: InstanceType<typeof pg.Pool> | undefined;
  const lockAcrossProcesses = async (name: string) => {
    if (!lockPool) {
      lockPool = new pg.Pool({ connectionString: url, max: 16, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 });
      lockPool.on('error', () => undefined);
    }
    const client = await lockPool.connect();
    const key = [LOCK_CLASS, fnv1a32(name)];
    try {
      await client.query('select pg_advisory_lock($1, $2)', key);
    } catch (err) {
      client.release(true);
      throw err;
    }
    return async () => {
      try {
        await client.query('select pg_advisory_unlock($1, $2)', key);
        client.release();
      } catch {
        client.release(true); // closing the session frees its locks
      }
    };
  };
  return {
    db,
    kind: 'postgres',
    lockAcrossProcesses,
    close: async () => {
      await lockPool?.end().catch(() => undefined);
      await pool.end();
    },
  };
}

/** The first key of our advisory locks ("td"), so they cannot collide with another application's. */
const LOCK_CLASS = 0x7464;

/** A 32-bit signed hash of a lock name; two names sharing a hash only serialise each other. */
function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193);
  return h | 0;
}

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  // 16 MB of shared buffers instead of 128: the embedded profile serves one user, and the OS caches files.
  const client = await PGlite.create(dataDir, { postgresqlconf: ['shared_buffers=16MB'] });
  const db = drizzle(client, { schema }) as unknown as Db;
  await migrate(db as never, { migrationsFolder: MIGRATIONS_DIR });
  return { db, kind: 'pglite', close: () => client.close() };
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
