import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
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
  /** Queues the row; the promise settles once it is stored. `urgent` writes it without waiting for a batch. */
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
 * A failed write is logged and rejects the waiting callers; it is never dropped silently.
 */
export class BatchedAuditLog implements AuditLog {
  #queue: Array<{ event: AuditEvent; done: () => void; fail: (e: unknown) => void }> = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

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
    await this.db.update(auditEvents).set(set).where(eq(auditEvents.id, id));
  }

  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writing = this.#writing.then(() => this.#writeBatch());
    return this.#writing;
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#queue.splice(0, this.#queue.length);
    if (batch.length === 0) return;
    try {
      await this.db.insert(auditEvents).values(batch.map(({ event }) => rowOf(event)));
      for (const b of batch) b.done();
    } catch (err) {
      this.logger.error('audit write failed', { rows: batch.length, err });
      for (const b of batch) b.fail(err);
    }
  }
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
