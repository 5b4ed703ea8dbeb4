import { AppError } from '../command/errors.js';
import type { Database } from '../db/client.js';
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
      const release = await this.database.lockAcrossProcesses?.(`account:${account}`).catch((err: unknown) => {
        throw new AppError('RATE_LIMITED', `The order lock of ${account} could not be taken: too many orders are in flight on this database.`, { hint: 'Retry in a few seconds.', cause: err });
      });
      try {
        return await fn();
      } finally {
        await release?.();
      }
    });
  }
}
