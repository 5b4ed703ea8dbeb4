import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { auditEvents } from '../db/schema/index.js';
import { statement } from '../db/sql-runner.js';
import type { Logger } from '../logger.js';
import { storableRow, storableValue, unstorableFallback } from './storable.js';

/**
 * A whole batch in one fixed statement with one parameter: the rows as a JSON array, keyed as
 * `auditRow` names them. The query builder would send one parameter per column and row (thousands for
 * a full batch) in a text that changes with the batch size, so nothing could be prepared and most of
 * the write's CPU went into building and binding it.
 */
const INSERT_BATCH = statement(
  'td_audit_insert_batch',
  `insert into audit_events (at, channel, principal, command, risk, input, outcome, duration_ms, request_id, account_name, notional, counts_to_budget, fingerprint, detail)
   select r.at, r.channel, r.principal, r.command, r.risk, r.input, r.outcome, r."durationMs", r."requestId", r."accountName", r.notional, coalesce(r."countsToBudget", false), r.fingerprint, r.detail
     from jsonb_to_recordset($1::jsonb) as r(at timestamptz, channel text, principal text, command text, risk text, input jsonb, outcome text,
       "durationMs" real, "requestId" text, "accountName" text, notional numeric, "countsToBudget" boolean, fingerprint text, detail jsonb)`,
);

export interface AuditEvent {
  at: Date;
  channel: string;
  principal: string;
  command: string;
  risk: string | null;
  input: unknown;
  outcome: string;
  durationMs: number;
  requestId: string;
  accountName?: string | null;
  /** The order's USDT value, as a decimal string. */
  notional?: string | null;
  countsToBudget?: boolean;
  fingerprint?: string | null;
  detail?: unknown;
}

export interface AuditLog {
  /**
   * Queues the row; the promise settles once it is stored (or, while the database is unreachable, kept
   * to be stored when it is back). `urgent` writes it without waiting for a batch.
   */
  record(event: AuditEvent, urgent?: boolean): Promise<void>;
  /**
   * Writes an order's intent (outcome `PENDING`) at once, before it is sent, and returns its row id; the
   * row is completed with `complete`. A crash in between leaves PENDING, which the budget still counts.
   */
  begin(event: AuditEvent): Promise<number>;
  complete(id: number, outcome: string, durationMs: number, detail?: unknown): Promise<void>;
  /** Stores everything queued so far. */
  flush(): Promise<void>;
}

/**
 * Writes audit rows in batches: reads wait up to `delayMs` so that a burst costs one INSERT rather than
 * one per call (an INSERT's fixed cost is most of what the pipeline adds to a read); a state-changing
 * command asks for an urgent write and awaits its row.
 * Every row is made storable first (see storable.ts). If a batch fails, its rows are written one by one,
 * so one bad row never costs another caller its row; a row that fails alone is stored in its reduced
 * form. When the database is unreachable the rows (and intent completions) are kept in memory, up to
 * MAX_KEPT, and written once it is back, so a call made during an outage still ends up in the journal.
 * Any other failure is logged and rejects the waiting callers; nothing is dropped silently.
 */
export class BatchedAuditLog implements AuditLog {
  #queue: Array<{ event: AuditEvent; done: () => void; fail: (e: unknown) => void }> = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  /** Rows whose write found the database unreachable, oldest first, written by a retry loop. */
  #kept: AuditEvent[] = [];
  #keptCompletions: KeptCompletion[] = [];
  #retryTimer: NodeJS.Timeout | undefined;
  #dropped = 0;

  private readonly db: Database['db'];
  private readonly sql: Database['sql'];

  constructor(
    database: Pick<Database, 'db' | 'sql'>,
    private readonly logger: Logger,
    private readonly delayMs = 50,
    private readonly maxBatch = 500,
  ) {
    this.db = database.db;
    this.sql = database.sql;
  }

  record(event: AuditEvent, urgent = false): Promise<void> {
    return new Promise((done, fail) => {
      this.#queue.push({ event, done, fail });
      if (urgent || this.#queue.length >= this.maxBatch) void this.flush();
      else this.#timer ??= setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  async begin(event: AuditEvent): Promise<number> {
    return this.#insertOne(auditRow({ ...event, outcome: 'PENDING' }));
  }

  async complete(id: number, outcome: string, durationMs: number, detail?: unknown): Promise<void> {
    const set: Partial<typeof auditEvents.$inferInsert> = { outcome: storableRow({ outcome }).outcome, durationMs: round3(durationMs) };
    if (detail !== undefined) set.detail = storableValue(detail) as object;
    try {
      await this.db.update(auditEvents).set(set).where(eq(auditEvents.id, id));
    } catch (err) {
      // An intent left PENDING would count towards the budget as if it had spent: finish it once the database is back.
      if (!isDatabaseUnavailable(err)) throw err;
      this.#keepForLater([], [{ id, set }]);
    }
  }

  /** Inserts one row, or its reduced form if the database refuses the row itself; returns its id. */
  async #insertOne(row: typeof auditEvents.$inferInsert): Promise<number> {
    try {
      const [r] = await this.db.insert(auditEvents).values(row).returning({ id: auditEvents.id });
      return r!.id;
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      this.logger.warn('audit row refused by the database; storing it without its input', { command: row.command, request_id: row.requestId, err });
      const [r] = await this.db.insert(auditEvents).values(unstorableFallback(row)).returning({ id: auditEvents.id });
      return r!.id;
    }
  }

  /** Stores rows made by `auditRow` in one statement: all of them or, if the database refuses one, none. */
  async #insertMany(rows: Array<typeof auditEvents.$inferInsert>): Promise<void> {
    await this.sql.query(INSERT_BATCH, [JSON.stringify(rows)]);
  }

  /** At shutdown: what is queued is written (a failure is logged by the write itself). */
  stop(): Promise<void> {
    return this.flush().catch(() => undefined);
  }

  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writing = this.#writing.then(() => this.#writeBatch()).then(() => (this.#kept.length || this.#keptCompletions.length ? this.#writeKept() : undefined));
    return this.#writing;
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#queue.splice(0, this.#queue.length);
    if (batch.length === 0) return;
    const rows = batch.map(({ event }) => auditRow(event));
    try {
      await this.#insertMany(rows);
      for (const b of batch) b.done();
      return;
    } catch (err) {
      if (isDatabaseUnavailable(err)) {
        // The database is away: the calls still happened, so their rows are kept and written once it is
        // back. The callers are answered now (their rows are accepted); the outage is logged once, not per call.
        this.#keepForLater(batch.map((b) => b.event));
        for (const b of batch) b.done();
        return;
      }
      this.logger.warn('audit batch refused; writing its rows one by one', { rows: batch.length, err });
    }
    for (let i = 0; i < batch.length; i++) {
      try {
        await this.#insertOne(rows[i]!);
        batch[i]!.done();
      } catch (err) {
        if (isDatabaseUnavailable(err)) {
          this.#keepForLater(batch.slice(i).map((b) => b.event));
          for (const b of batch.slice(i)) b.done();
          return;
        }
        // Even the reduced row failed: fail this row and the rest at once rather than waiting on each.
        this.logger.error('audit write failed', { rows: batch.length - i, err });
        for (const b of batch.slice(i)) b.fail(err);
        return;
      }
    }
  }

  #keepForLater(events: AuditEvent[], completions: KeptCompletion[] = []): void {
    this.#kept.push(...events);
    this.#keptCompletions.push(...completions);
    for (const list of [this.#kept, this.#keptCompletions]) {
      const over = list.length - BatchedAuditLog.MAX_KEPT;
      if (over > 0) {
        list.splice(0, over);
        this.#dropped += over;
      }
    }
    if (this.#retryTimer) return;
    this.logger.warn('audit rows kept in memory until the database is reachable again', { rows: this.#kept.length, dropped: this.#dropped });
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    this.#retryTimer = setTimeout(() => {
      this.#writing = this.#writing.then(() => this.#writeKept());
    }, BatchedAuditLog.RETRY_MS);
    this.#retryTimer.unref();
  }

  async #writeKept(): Promise<void> {
    clearTimeout(this.#retryTimer);
    while (this.#kept.length) {
      const chunk = this.#kept.slice(0, this.maxBatch);
      try {
        await this.#insertMany(chunk.map(auditRow));
        this.#kept.splice(0, chunk.length);
      } catch (err) {
        if (isDatabaseUnavailable(err)) return this.#scheduleRetry();
        // One bad row must not cost the others theirs: write this chunk row by row.
        for (const e of chunk) {
          try {
            await this.#insertOne(auditRow(e));
          } catch (rowErr) {
            if (isDatabaseUnavailable(rowErr)) return this.#scheduleRetry();
            this.logger.error('audit write failed', { rows: 1, err: rowErr });
          }
          this.#kept.shift();
        }
      }
    }
    while (this.#keptCompletions.length) {
      const { id, set } = this.#keptCompletions[0]!;
      try {
        await this.db.update(auditEvents).set(set).where(eq(auditEvents.id, id));
      } catch (err) {
        if (isDatabaseUnavailable(err)) return this.#scheduleRetry();
        this.logger.error('audit intent not completed', { id, err });
      }
      this.#keptCompletions.shift();
    }
    this.#retryTimer = undefined;
    if (this.#dropped) this.logger.error('audit rows dropped during a database outage: more were kept than fit in memory', { rows: this.#dropped });
    else this.logger.info('audit rows kept during a database outage are written');
    this.#dropped = 0;
  }

  /** How many rows an outage may keep in memory; past that the oldest go, and the log says how many. */
  static readonly MAX_KEPT = 20_000;
  static readonly RETRY_MS = 1000;
}

/** An intent's completion that found the database unreachable. */
interface KeptCompletion {
  id: number;
  set: Partial<typeof auditEvents.$inferInsert>;
}

/** The row an event is stored as (made storable); also what the paper order path writes in its own statement. */
export function auditRow(e: AuditEvent): typeof auditEvents.$inferInsert {
  return storableRow({
    at: e.at,
    channel: e.channel,
    principal: e.principal,
    command: e.command,
    risk: e.risk,
    input: e.input as object,
    outcome: e.outcome,
    durationMs: round3(e.durationMs),
    requestId: e.requestId,
    accountName: e.accountName ?? null,
    notional: e.notional ?? null,
    countsToBudget: e.countsToBudget ?? false,
    fingerprint: e.fingerprint ?? null,
    detail: (e.detail ?? null) as object | null,
  });
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;
