import { parse, protocol, type PGlite } from '@electric-sql/pglite';
import { CommitThenThrow, type Queryable, type SqlRunner, type Statement } from './sql-runner.js';

const { serialize } = protocol;

type BackendMessage = Awaited<ReturnType<PGlite['execProtocol']>>['messages'][number];

/**
 * PGlite: one connection, so a transaction excludes everything else. `PGlite.query` parses and plans
 * its text on every call and crosses into the database once per protocol message (parse, describe,
 * bind, describe, execute, sync), which costs several times what the statement itself does. Here a
 * statement is parsed once under its name (PGlite keeps it for the life of the instance, like a
 * node-postgres connection) and each call is one message: bind, execute, sync. Parameters
 * are serialised and rows parsed by PGlite's own serializers and parsers, as `query` does.
 */
export function pgliteRunner(client: PGlite): SqlRunner {
  /** Per prepared name: the parameter types it was planned with, and its row description (none for a statement without rows). */
  const prepared = new Map<string, { types: number[]; rowDescription: BackendMessage | undefined }>();

  const run = async <R>(st: Statement, params: readonly unknown[], inTransaction: boolean): Promise<R[]> => {
    let known = prepared.get(st.name);
    if (!known) {
      const described = await client.execProtocol(concat([serialize.parse({ name: st.name, text: st.text }), serialize.describe({ type: 'S', name: st.name }), serialize.sync()]), { syncToFs: false });
      known = { types: parse.parseDescribeStatementResults(described.messages), rowDescription: described.messages.find((m) => m.name === 'rowDescription') };
      prepared.set(st.name, known);
    }
    const { types, rowDescription } = known;
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const serializer = client.serializers[types[i]!];
      return serializer ? serializer(v) : String(v);
    });
    // No describe per call: the rows come in text format, as the statement's own description says.
    const message = concat([serialize.bind({ statement: st.name, values }), serialize.execute({}), serialize.sync()]);
    // Outside a transaction the write is synced to the data directory, as `query` does.
    const result = await client.execProtocol(message, { syncToFs: !inTransaction });
    const messages = rowDescription ? [rowDescription, ...result.messages] : result.messages;
    return (parse.parseResults(messages, client.parsers)[0]?.rows ?? []) as R[];
  };

  return {
    // The same checks and locks as `query`: the instance is open, no other transaction is open, no other statement runs.
    async query<R>(st: Statement, params: readonly unknown[]): Promise<R[]> {
      await client._checkReady();
      return client._runExclusiveTransaction(() => client._runExclusiveQuery(() => run<R>(st, params, false)));
    },
    async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      let after: unknown;
      let threw = false;
      const result = await client.transaction(async () => {
        try {
          // PGlite's transaction holds the transaction lock; each statement still takes the query lock.
          return await fn({ query: <R>(st: Statement, params: readonly unknown[]) => client._runExclusiveQuery(() => run<R>(st, params, true)) });
        } catch (err) {
          if (!(err instanceof CommitThenThrow)) throw err;
          threw = true;
          after = err.error;
          return undefined as T;
        }
      });
      if (threw) throw after;
      return result;
    },
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
