import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServices, type Driver } from '../helpers/test-env.js';

/**
 * The per-account order lock holds a Postgres session (an advisory lock) for the whole order. When that
 * session dies while the lock is held (the server restarted, an admin terminated it, the network
 * dropped it), the process must not die of the client's 'error' event, the holder must finish, and
 * the account must not stay locked: the next order takes the lock at once.
 */
const driver: Driver = 'postgres';

// Advisory locks exist only on a Postgres server (the embedded database admits one process).
describe.skipIf(!process.env.DATABASE_URL)('an order lock whose session dies, on postgres', () => {
  let ctx: Awaited<ReturnType<typeof testServices>>;
  let admin: pg.Client;

  beforeAll(async () => {
    ctx = await testServices(driver);
    admin = new pg.Client({ connectionString: ctx.env.config.databaseUrl });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await ctx?.close();
  });

  /** Backends of this database holding one of our advisory locks ("td" class). */
  const holders = async () =>
    (await admin.query<{ pid: number }>(`select pid from pg_locks where locktype = 'advisory' and classid = $1 and database = (select oid from pg_database where datname = current_database())`, [0x7464])).rows.map((r) => r.pid);

  async function until(what: string, check: () => Promise<boolean>) {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('is released with its session, and the next holder gets it at once', async () => {
    const locks = ctx.services.safety.locks;
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
