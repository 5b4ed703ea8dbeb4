import { execFileSync } from 'node:child_process';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServices, type Driver } from '../helpers/test-env.js';

/**
 * Postgres sessions that die under us (the server restarted, an admin terminated them, the network
 * dropped them) while a client is checked out of a pool. The process must not die of the client's
 * 'error' event, and the pool must get the client back.
 *
 * The per-account order lock holds a session (a transaction holding the account's row lock) for the
 * whole order: when it dies, the holder must finish and the account must not stay locked: the next order
 * takes the lock at once.
 */
const driver: Driver = 'postgres';

// Held locks exist only on a Postgres server (the embedded database admits one process).
describe.skipIf(!process.env.DATABASE_URL)('an order lock whose session dies, on postgres', () => {
  let ctx: Awaited<ReturnType<typeof testServices>>;
  let admin: pg.Client;

  beforeAll(async () => {
    ctx = await testServices(driver);
    admin = new pg.Client({ connectionString: ctx.env.config.databaseUrl });
    await admin.connect();
    await admin.query(`insert into accounts (name) values ('victim')`);
  });
  afterAll(async () => {
    await admin?.end();
    await ctx?.close();
  });

  /** Backends of this database holding an account's row lock in a held transaction. */
  const holders = async () =>
    (await admin.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and state like 'idle in transaction%' and query like 'select name from accounts where name = $1 for no key update%'`)).rows.map((r) => r.pid);

  async function until(what: string, check: () => Promise<boolean>) {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('is released with its session, and the next holder gets it at once', async () => {
    const locks = ctx.services.locks;
    const first = await locks.run('victim', async () => {
      const pids = await holders();
      expect(pids).toHaveLength(1);
      await admin.query('select pg_terminate_backend($1)', [pids[0]]);
      await until('the terminated session to drop its lock', async () => (await holders()).length === 0);
      return 'finished';
    });
    expect(first).toBe('finished');

    // The same account, in this process and from another session, is lockable again.
    const second = await locks.run('victim', async () => {
      expect(await holders()).toHaveLength(1);
      return 'again';
    });
    expect(second).toBe('again');
    expect(await holders()).toEqual([]);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('a transaction whose connection died before BEGIN, on postgres', () => {
  it('fails as unreachable and gives its client back to the pool, so the pool still closes', async () => {
    const ctx = await testServices('postgres');
    let closed = false;
    try {
      const { db } = ctx.services;
      // The pool hands out its most recently used idle client first: this one.
      const { rows } = (await db.execute(sql`select pg_backend_pid() as pid`)) as unknown as { rows: Array<{ pid: number }> };
      const pid = rows[0]!.pid;
      // Terminated from another process while this event loop is blocked, so the pool cannot notice
      // before the transaction takes the dead client and sends BEGIN on it.
      execFileSync('psql', [ctx.env.config.databaseUrl!, '-qAtc', `select pg_terminate_backend(${pid})`]);
      const err = await db.transaction(async (tx) => tx.execute(sql`select 1`)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      const { isDatabaseUnavailable } = await import('../../src/core/db/errors.js');
      expect(isDatabaseUnavailable(err), String(err)).toBe(true);
      // The pool serves again, and closing it does not wait for a client nobody will release.
      expect(await db.execute(sql`select 1 as one`)).toMatchObject({ rows: [{ one: 1 }] });
      await expect(ctx.services.database.close()).resolves.toBeUndefined();
      closed = true;
    } finally {
      if (!closed) await ctx.services.database.close().catch(() => undefined);
      await ctx.env.cleanup();
    }
  });
});
