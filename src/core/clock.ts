/**
 * Where domain code reads the time. The same code runs under three clocks (a backtest's simulated time,
 * the server's wall clock, a bot's), so nothing outside this file calls `Date.now()` or `new Date()`:
 * the clock is injected. Measuring a duration is not reading the time: `performance.now()` is fine.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** The same instant as a Date. */
  date(): Date;
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  date: () => new Date(),
};

/** A clock that moves only when told: tests pin it, a backtest steps it through its candles. */
export class ManualClock implements Clock {
  #ms: number;

  constructor(startMs: number) {
    this.#ms = checked(startMs);
  }

  now(): number {
    return this.#ms;
  }

  date(): Date {
    return new Date(this.#ms);
  }

  set(ms: number): void {
    this.#ms = checked(ms);
  }

  advance(ms: number): void {
    this.#ms = checked(this.#ms + ms);
  }
}

function checked(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`a clock reads finite epoch milliseconds, not ${ms}`);
  return ms;
}
