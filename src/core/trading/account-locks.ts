import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database } from '../db/client.js';
import { databaseUnavailable } from '../db/errors.js';
import type { Queryable } from '../db/sql-runner.js';
import { KeyedMutex } from './keyed-mutex.js';
import { lockAccount } from './paper/ledger-state.js';

/**
 * One lock per account, held across an order's checks and its execution. Within this process a mutex
 * queues the calls (so waiting orders do not each hold a connection); across processes on one Postgres
 * (a REST server and a stdio MCP server side by side) the account's row lock excludes the others, so
 * neither can slip an order past a cap the other is checking.
 *
 * `transaction` is the fast path: the row lock is the first statement of the order's own transaction.
 * `run` holds the row lock in a transaction of its own, for work that cannot run inside one (a live
 * order waits on its exchange, a person is asked).
 */
export class AccountLocks {
  readonly #local = new KeyedMutex();
  /** The accounts whose lock the current call already holds through `run`. */
  readonly #held = new AsyncLocalStorage<ReadonlySet<string>>();

  constructor(private readonly database: Pick<Database, 'holdTransaction' | 'sql'>) {}

  run<T>(account: string, fn: () => Promise<T>): Promise<T> {
    return this.#local.run(account, async () => {
      // The lock lives in the database: failing to take it means the database is unreachable or has no
      // connection to spare, which the caller sees as a retryable 503, never as its own fault.
      const held = await this.database.holdTransaction?.().catch((err: unknown) => {
        throw databaseUnavailable(err, `The order lock of ${account} could not be taken: the database is unreachable or out of connections`);
      });
      try {
        if (held) await lockAccount(held.q, account);
        return await this.#held.run(new Set([...(this.#held.getStore() ?? []), account]), fn);
      } finally {
        // Never throws: a failed commit drops the session, which frees the lock on the server.
        await held?.release();
      }
    });
  }

  /**
   * Runs `fn` in one transaction that starts by taking the account's row lock. Inside `run` for the same
   * account the lock is already held (by another connection), so the transaction goes without it.
   */
  transaction<T>(account: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
    if (this.#held.getStore()?.has(account)) return this.database.sql.transaction(fn);
    return this.#local.run(account, () =>
      this.database.sql.transaction(async (q) => {
        await lockAccount(q, account);
        return fn(q);
      }),
    );
  }
}
