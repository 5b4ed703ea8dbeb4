/**
 * Plain SQL for the hot paths. The query builder costs about as much CPU per statement as the database
 * does to run it (building the text and mapping rows), and each statement a transaction sends is a round
 * trip; the order path therefore sends a handful of fixed, named statements that each driver prepares
 * once per connection, and reads rows as the driver returns them.
 */

/** A fixed statement: the same name always means the same text (it is prepared once per connection). */
export interface Statement {
  name: string;
  text: string;
}

export function statement(name: string, text: string): Statement {
  return { name, text: text.replace(/\s+/g, ' ').trim() };
}

export interface Queryable {
  query<R = Record<string, unknown>>(st: Statement, params: readonly unknown[]): Promise<R[]>;
}

export interface SqlRunner extends Queryable {
  /**
   * Runs `fn` in one transaction on one connection: committed when it returns, rolled back when it throws.
   * A `CommitThenThrow` commits what was written and then throws its error: an order refused by the
   * engine is still stored (so a retry replays the refusal) and the caller still sees the refusal.
   */
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
}

export class CommitThenThrow extends Error {
  constructor(readonly error: unknown) {
    super('commit, then throw');
  }
}

interface PgClient {
  query(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
  release(err?: Error | boolean): void;
}

interface PgPool {
  query(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
  connect(): Promise<PgClient>;
}

/** node-postgres: named statements, so each connection parses and plans each text once. */
export function pgRunner(pool: PgPool): SqlRunner {
  const run = (c: PgClient | PgPool) => async <R>(st: Statement, params: readonly unknown[]) => (await c.query({ name: st.name, text: st.text, values: params as unknown[] })).rows as R[];
  return {
    query: run(pool),
    async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query({ text: 'begin' });
        let result: T;
        try {
          result = await fn({ query: run(client) });
        } catch (err) {
          if (err instanceof CommitThenThrow) {
            await client.query({ text: 'commit' });
            throw err.error;
          }
          await client.query({ text: 'rollback' }).catch((e: Error) => {
            broken = e;
          });
          throw err;
        }
        await client.query({ text: 'commit' });
        return result;
      } catch (err) {
        // A failed begin or commit leaves the session in an unknown state: it is closed, not reused.
        broken ??= err instanceof Error && !('code' in err && typeof (err as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code)) ? err : undefined;
        throw err;
      } finally {
        client.release(broken ?? false);
      }
    },
  };
}

// PGlite's runner is in pglite-runner.ts, loaded only with the embedded database.
