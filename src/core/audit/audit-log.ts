import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { auditEvents } from '../db/schema/index.js';
import type { Logger } from '../logger.js';

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
 * A failed write is logged and rejects the waiting callers; it is never dropped silently. When the
 * database is unreachable the rows (and intent completions) are also kept in memory, up to MAX_KEPT,
 * and written once it is back, so a call made during an outage still ends up in the journal.
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

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly delayMs = 50,
    private readonly maxBatch = 500,
  ) {}

  record(event: AuditEvent, urgent = false): Promise<void> {
    return new Promise((done, fail) => {
      this.#queue.push({ event, done, fail });
      if (urgent || this.#queue.length >= this.maxBatch) void this.flush();
      else this.#timer ??= setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  async begin(event: AuditEvent): Promise<number> {
    const [row] = await this.db.insert(auditEvents).values(rowOf({ ...event, outcome: 'PENDING' })).returning({ id: auditEvents.id });
    return row!.id;
  }

  async complete(id: number, outcome: string, durationMs: number, detail?: unknown): Promise<void> {
    const set: Partial<typeof auditEvents.$inferInsert> = { outcome, durationMs: round3(durationMs) };
    if (detail !== undefined) set.detail = detail as object;
    try {
      await this.db.update(auditEvents).set(set).where(eq(auditEvents.id, id));
    } catch (err) {
      // An intent left PENDING would count towards the budget as if it had spent: finish it once the database is back.
      if (!isDatabaseUnavailable(err)) throw err;
      this.#keepForLater([], [{ id, set }]);
    }
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
    try {
      await this.db.insert(auditEvents).values(batch.map(({ event }) => rowOf(event)));
      for (const b of batch) b.done();
    } catch (err) {
      if (!isDatabaseUnavailable(err)) {
        this.logger.error('audit write failed', { rows: batch.length, err });
        for (const b of batch) b.fail(err);
        return;
      }
      // The database is away: the calls still happened, so their rows are kept and written once it is back.
      // The callers are answered now (their rows are accepted); the outage is logged here once, not per call.
      this.#keepForLater(batch.map((b) => b.event));
      for (const b of batch) b.done();
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
        await this.db.insert(auditEvents).values(chunk.map(rowOf));
        this.#kept.splice(0, chunk.length);
      } catch (err) {
        if (isDatabaseUnavailable(err)) return this.#scheduleRetry();
        this.#kept.splice(0, chunk.length);
        this.logger.error('audit write failed', { rows: chunk.length, err });
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

function rowOf(e: AuditEvent): typeof auditEvents.$inferInsert {
  return {
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
  };
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;
