/**
 * Counts the SQL statements this process sends to the database while a window is open, by wrapping the
 * drivers' query entry points on their prototypes (so every pool, client and transaction is covered,
 * whoever created it):
 *
 * - node-postgres: `Client.prototype.query`. `Pool.query` and drizzle's node-postgres session both end
 *   there, once per statement, including BEGIN/COMMIT/ROLLBACK and advisory lock calls.
 * - PGlite: `query` and `exec` on the instance, and inside `transaction()` the transaction object's
 *   `query`/`exec` plus the BEGIN and COMMIT/ROLLBACK PGlite sends itself. An `exec` holding several
 *   statements separated by ";" counts as one.
 *
 * Counting is on only between `countStatements()` and its `stop()`; outside that the wrappers cost
 * one branch, inside it one map update per statement (the texts are classified at `stop()`, so the
 * counting adds next to nothing to the CPU being measured). Nothing here changes what is sent.
 */

export interface StatementCount {
  total: number;
  /** By the statement's first keyword: BEGIN, COMMIT, ROLLBACK, SELECT, INSERT, UPDATE, DELETE, WITH, ... */
  byKind: Record<string, number>;
  /** By statement text (whitespace collapsed, cut at 160 characters), most frequent first. */
  byText: Array<[string, number]>;
}

interface Window {
  total: number;
  /** By the text as sent: the hot path only counts, the texts are classified when the window closes. */
  byRaw: Map<string, number>;
}

let current: Window | undefined;
let installed: Promise<string[]> | undefined;

function record(text: unknown): void {
  const w = current;
  if (!w) return;
  const s = typeof text === 'string' ? text : typeof (text as { text?: unknown })?.text === 'string' ? (text as { text: string }).text : '?';
  w.total++;
  w.byRaw.set(s, (w.byRaw.get(s) ?? 0) + 1);
}

/**
 * Wraps the drivers once per process (idempotent). Resolves with the drivers wrapped; a driver that is
 * not installed is left out.
 */
export function installStatementCounter(): Promise<string[]> {
  installed ??= (async () => {
    const done: string[] = [];
    try {
      const { default: pg } = await import('pg');
      const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
      const query = proto.query;
      proto.query = function (this: unknown, ...args: unknown[]) {
        record(args[0]);
        return query.apply(this, args);
      };
      done.push('pg');
    } catch {
      /* not installed */
    }
    try {
      const { PGlite } = await import('@electric-sql/pglite');
      type Fn = (...a: unknown[]) => Promise<unknown>;
      const proto = PGlite.prototype as unknown as { query: Fn; exec: Fn; transaction: (cb: (tx: Record<string, Fn>) => Promise<unknown>) => Promise<unknown> };
      const { query, exec, transaction } = proto;
      proto.query = function (this: unknown, ...args: unknown[]) {
        record(args[0]);
        return query.apply(this, args);
      };
      proto.exec = function (this: unknown, ...args: unknown[]) {
        record(args[0]);
        return exec.apply(this, args);
      };
      proto.transaction = function (this: unknown, cb) {
        record('BEGIN');
        let ended = false;
        const end = (what: string) => {
          if (!ended) record(what);
          ended = true;
        };
        return transaction
          .call(this, (tx) => {
            const counted: Record<string, Fn> = Object.create(tx);
            counted.query = (...a: unknown[]) => (record(a[0]), tx.query!(...a));
            counted.exec = (...a: unknown[]) => (record(a[0]), tx.exec!(...a));
            counted.rollback = (...a: unknown[]) => (end('ROLLBACK'), tx.rollback!(...a));
            return cb(counted);
          })
          .then(
            (v) => (end('COMMIT'), v),
            (err) => {
              end('ROLLBACK');
              throw err;
            },
          );
      };
      done.push('pglite');
    } catch {
      /* not installed */
    }
    return done;
  })();
  return installed;
}

/** Opens a counting window (closing any open one); `stop()` closes it and returns what was counted. */
export function countStatements(): { stop(): StatementCount } {
  const w: Window = { total: 0, byRaw: new Map() };
  current = w;
  return {
    stop() {
      if (current === w) current = undefined;
      const byKind = new Map<string, number>();
      const byText = new Map<string, number>();
      for (const [raw, n] of w.byRaw) {
        const norm = raw.replace(/\s+/g, ' ').trim();
        const kind = (/^[A-Za-z]+/.exec(norm)?.[0] ?? '?').toUpperCase();
        byKind.set(kind, (byKind.get(kind) ?? 0) + n);
        const key = norm.slice(0, 160);
        byText.set(key, (byText.get(key) ?? 0) + n);
      }
      return {
        total: w.total,
        byKind: Object.fromEntries([...byKind].sort((a, b) => b[1] - a[1])),
        byText: [...byText].sort((a, b) => b[1] - a[1]),
      };
    },
  };
}
