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
}

export interface AuditLog {
  /** Queues the row; the promise settles once it is stored. `urgent` writes it without waiting for a batch. */
  record(event: AuditEvent, urgent?: boolean): Promise<void>;
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
      await this.db.insert(auditEvents).values(
        batch.map(({ event: e }) => ({
          at: e.at,
          channel: e.channel,
          principal: e.principal,
          command: e.command,
          risk: e.risk,
          input: e.input as object,
          outcome: e.outcome,
          durationMs: Math.round(e.durationMs * 1000) / 1000,
          requestId: e.requestId,
        })),
      );
      for (const b of batch) b.done();
    } catch (err) {
      this.logger.error('audit write failed', { rows: batch.length, err });
      for (const b of batch) b.fail(err);
    }
  }
}
