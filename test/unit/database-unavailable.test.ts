import { createServer, type Server, type Socket } from 'node:net';
import { drizzle } from 'drizzle-orm/node-postgres';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, httpStatusOf, toAppError } from '../../src/core/errors.js';
import { isDatabaseUnavailable, isRetryableConflict } from '../../src/core/db/errors.js';
import { DatabaseHealth } from '../../src/core/db/health.js';
import { AccountLocks } from '../../src/core/trading/account-locks.js';
import { freePort } from '../helpers/free-port.js';

/** An error the way pg raises it for a server-sent ErrorResponse with this SQLSTATE. */
function pgServerError(code: string, message: string): Error {
  const e = new pg.DatabaseError(message, message.length, 'error');
  e.code = code;
  e.severity = 'FATAL';
  return e;
}

/** The error a real pg client gets when nothing listens on the port. */
async function refusedError(): Promise<Error> {
  const c = new pg.Client({ host: '127.0.0.1', port: await freePort(), user: 'x', database: 'x', connectionTimeoutMillis: 2000 });
  return c.connect().then(
    () => {
      throw new Error('connected to a port nothing listens on');
    },
    (err: Error) => err,
  );
}

describe('recognising an unreachable database', () => {
  let silent: Server;
  let silentPort: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers: a database host that hangs.
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  it('a refused connection, from pg directly and wrapped by a drizzle query', async () => {
    const refused = await refusedError();
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
    expect(isDatabaseUnavailable(refused)).toBe(true);

    const pool = new pg.Pool({ host: '127.0.0.1', port: await freePort(), user: 'x', database: 'x', connectionTimeoutMillis: 2000 });
    pool.on('error', () => undefined);
    const wrapped = await drizzle(pool).execute(sql`select 1`).then(
      () => null,
      (err: unknown) => err,
    );
    await pool.end();
    expect(wrapped).toBeInstanceOf(Error);
    expect(wrapped).not.toBe(refused);
    expect(isDatabaseUnavailable(wrapped)).toBe(true);
  });

  it('a connect timeout against a host that never answers, from a client and from a pool', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: silentPort, user: 'x', database: 'x', connectionTimeoutMillis: 200 });
    const clientErr = await c.connect().then(
      () => null,
      (err: Error) => err,
    );
    expect(clientErr?.message).toMatch(/timeout/i);
    expect(isDatabaseUnavailable(clientErr)).toBe(true);

    const pool = new pg.Pool({ host: '127.0.0.1', port: silentPort, user: 'x', database: 'x', connectionTimeoutMillis: 200 });
    pool.on('error', () => undefined);
    const poolErr = await pool.query('select 1').then(
      () => null,
      (err: Error) => err,
    );
    await pool.end();
    expect(isDatabaseUnavailable(poolErr)).toBe(true);
  });

  it('server errors that mean it is going away or turning connections down', () => {
    for (const [code, msg] of [
      ['57P01', 'terminating connection due to administrator command'],
      ['57P02', 'terminating connection because of crash of another server process'],
      ['57P03', 'the database system is starting up'],
      ['53300', 'sorry, too many clients already'],
      ['08006', 'connection failure'],
      ['08001', 'could not establish connection'],
    ] as const) {
      expect(isDatabaseUnavailable(pgServerError(code, msg)), code).toBe(true);
      expect(isDatabaseUnavailable(new Error('Failed query: select 1', { cause: pgServerError(code, msg) })), `${code} wrapped`).toBe(true);
    }
  });

  it('a dropped connection, as pg reports it to the next query', () => {
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
  });

  it('but not a query that is wrong, a constraint, or any other error', () => {
    expect(isDatabaseUnavailable(pgServerError('42601', 'syntax error at or near "selec"'))).toBe(false);
    expect(isDatabaseUnavailable(pgServerError('23505', 'duplicate key value violates unique constraint'))).toBe(false);
    expect(isDatabaseUnavailable(pgServerError('40P01', 'deadlock detected'))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });

  it('toAppError answers it as 503 UPSTREAM_UNAVAILABLE, retryable, with a hint; other errors stay INTERNAL', async () => {
    const e = toAppError(new Error('Failed query: insert into orders', { cause: await refusedError() }));
    expect(e.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(httpStatusOf(e.code)).toBe(503);
    expect(e.retryable).toBe(true);
    expect(e.hint).toMatch(/database is unreachable; retry in a few seconds/i);
    expect(e.message).not.toMatch(/insert into|ECONNREFUSED|127\.0\.0\.1/);
    expect(toAppError(pgServerError('42601', 'syntax error')).code).toBe('INTERNAL');
  });
});

/** The lock's own transaction is what these tests exercise; the order path's runner is never reached. */
const unusedSql = { query: () => Promise.reject(new Error('not used')), transaction: () => Promise.reject(new Error('not used')) };

describe('the account lock when the database is unreachable', () => {
  it('is a retryable 503 UPSTREAM_UNAVAILABLE, not RATE_LIMITED, and the order never runs', async () => {
    const refused = await refusedError();
    const locks = new AccountLocks({ holdTransaction: () => Promise.reject(refused), sql: unusedSql });
    let ran = false;
    const err = await locks
      .run('acct', async () => {
        ran = true;
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('UPSTREAM_UNAVAILABLE');
    expect((err as AppError).retryable).toBe(true);
    expect((err as AppError).hint).toMatch(/database is unreachable/i);
    expect(ran).toBe(false);
    // The local queue is not wedged by the failure: the next holder gets the lock.
    const ok = new AccountLocks({ holdTransaction: async () => ({ q: { query: async () => [{ name: 'acct' }] as never[] }, release: async () => undefined }), sql: unusedSql });
    await expect(ok.run('acct', async () => 'done')).resolves.toBe('done');
    await expect(locks.run('acct', async () => 'x')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });
});

describe('the /health database check', () => {
  function fakeDatabase(answers: Array<boolean | Error>) {
    const calls = { n: 0 };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    return {
      calls,
      release,
      db: {
        ping: async () => {
          const a = answers[Math.min(calls.n, answers.length - 1)]!;
          calls.n++;
          await gate;
          if (a instanceof Error) throw a;
          return a;
        },
      },
    };
  }

  it('runs one check for any number of concurrent callers, reuses it for the TTL, then checks again', async () => {
    let now = 1_000;
    const f = fakeDatabase([true, false]);
    const health = new DatabaseHealth(f.db, 1500, 2000, () => now);
    const pending = Array.from({ length: 100 }, () => health.state());
    f.release();
    expect(new Set(await Promise.all(pending))).toEqual(new Set(['ok']));
    expect(f.calls.n).toBe(1);
    now += 1499;
    expect(await health.state()).toBe('ok');
    expect(f.calls.n).toBe(1);
    now += 1;
    expect(await health.state()).toBe('unreachable');
    expect(f.calls.n).toBe(2);
  });

  it('a check that throws reads as unreachable', async () => {
    const f = fakeDatabase([new Error('boom')]);
    f.release();
    expect(await new DatabaseHealth(f.db).state()).toBe('unreachable');
  });
});

describe('a conflict Postgres aborted (deadlock, serialization)', () => {
  const pgError = (code: string) => Object.assign(new Error('boom'), { code });

  it('is retryable for 40P01 and 40001, also wrapped as drizzle wraps it', () => {
    expect(isRetryableConflict(pgError('40P01'))).toBe(true);
    expect(isRetryableConflict(pgError('40001'))).toBe(true);
    expect(isRetryableConflict(new Error('Failed query', { cause: pgError('40P01') }))).toBe(true);
  });

  it('is not for anything else: a constraint, a syntax error, a lost connection, a non-error', () => {
    expect(isRetryableConflict(pgError('23505'))).toBe(false);
    expect(isRetryableConflict(pgError('42601'))).toBe(false);
    expect(isRetryableConflict(pgError('ECONNRESET'))).toBe(false);
    expect(isRetryableConflict('40P01')).toBe(false);
  });
});
