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
  /** Queues the row; the promise settles once it is stored. */
  record(event: AuditEvent): Promise<void>;
  /** Stores everything queued so far. */
  flush(): Promise<void>;
}

/**
 * Writes audit rows in small batches: a burst of reads costs one INSERT rather than one per call,
 * while a caller that must know its row is stored (every state-changing command) awaits the promise.
 * A failed write is logged and rejects the waiting callers; it is never dropped silently.
 */
export class BatchedAuditLog implements AuditLog {
  #queue: Array<{ event: AuditEvent; done: () => void; fail: (e: unknown) => void }> = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly delayMs = 5,
    private readonly maxBatch = 500,
  ) {}

  record(event: AuditEvent): Promise<void> {
    return new Promise((done, fail) => {
      this.#queue.push({ event, done, fail });
      if (this.#queue.length >= this.maxBatch) void this.flush();
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
