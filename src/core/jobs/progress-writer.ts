import type { Clock } from './types.js';

export interface ProgressValue {
  fraction: number;
  message: string | null;
}

/**
 * Turns a runner's progress calls, however frequent, into at most one write per `everyMs`, and never
 * loses the last value: a value reported inside the interval is written when it ends. Writes never
 * overlap, so they land in the order reported. A write that fails is only logged by the caller:
 * progress is for display, the job goes on.
 */
export class ProgressWriter {
  #latest: ProgressValue | undefined;
  #dirty = false;
  #lastWriteAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inflight: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly write: (v: ProgressValue) => Promise<void>,
    private readonly clock: Clock,
    private readonly everyMs: number,
  ) {}

  /** The last value reported, written or not. */
  get latest(): ProgressValue | undefined {
    return this.#latest;
  }

  report(fraction: number, message?: string): void {
    if (this.#closed) return;
    const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : (this.#latest?.fraction ?? 0);
    this.#latest = { fraction: f, message: message ?? null };
    this.#dirty = true;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer || this.#inflight) return;
    const wait = this.#lastWriteAt + this.everyMs - this.clock.now();
    if (wait <= 0) void this.#flush();
    else {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#flush();
      }, wait);
      this.#timer.unref?.();
    }
  }

  async #flush(): Promise<void> {
    if (!this.#dirty || !this.#latest || this.#closed) return;
    this.#dirty = false;
    this.#lastWriteAt = this.clock.now();
    const p = this.write(this.#latest);
    this.#inflight = p;
    try {
      await p;
    } catch {
      // the writer logs its own failures
    } finally {
      this.#inflight = undefined;
      // A value that arrived during the write waits for the rest of the interval.
      if (this.#dirty) this.#schedule();
    }
  }

  /** Stops writing (the final state is written by the job's finish) and waits for a write in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inflight?.catch(() => undefined);
  }
}
