import type { Database } from '../db/client.js';
import { databaseUnavailable } from '../db/errors.js';
import { KeyedMutex } from '../trading/keyed-mutex.js';

/**
 * One lock per account, held across an order's checks and its execution. Within this process a mutex
 * queues the calls; on Postgres an advisory lock also excludes other processes on the same database
 * (a REST server and a stdio MCP server side by side), so neither can slip an order past a cap the
 * other is checking.
 */
export class AccountLocks {
  readonly #local = new KeyedMutex();

  constructor(private readonly database: Pick<Database, 'lockAcrossProcesses'>) {}

  run<T>(account: string, fn: () => Promise<T>): Promise<T> {
    return this.#local.run(account, async () => {
      // The advisory lock lives in the database: failing to take it means the database is unreachable or
      // has no connection to spare, which the caller sees as a retryable 503, never as its own fault.
      const release = await this.database.lockAcrossProcesses?.(`account:${account}`).catch((err: unknown) => {
        throw databaseUnavailable(err, `The order lock of ${account} could not be taken: the database is unreachable or out of connections`);
      });
      try {
        return await fn();
      } finally {
        // Never throws: a failed unlock drops the session, which frees the lock on the server.
        await release?.();
      }
    });
  }
}
