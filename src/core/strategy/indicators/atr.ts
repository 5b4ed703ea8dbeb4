import { checkPeriod } from './period.js';

/**
 * Average true range with Wilder smoothing (RMA). True range is max(high − low, |high − prevClose|,
 * |low − prevClose|), and high − low on the first bar (no previous close). The first ATR is the mean of
 * the first `period` true ranges (at index period − 1), then atr = (atr·(period − 1) + tr) / period.
 */
export class Atr {
  value = NaN;
  ready = false;
  private prevClose = NaN;
  private count = 0;
  private seedSum = 0;

  constructor(readonly period: number) {
    checkPeriod('Atr period', period);
  }

  update(high: number, low: number, close: number): number {
    const pc = this.prevClose;
    this.prevClose = close;
    let tr = high - low;
    if (this.count > 0) {
      const up = Math.abs(high - pc);
      const down = Math.abs(low - pc);
      if (up > tr) tr = up;
      if (down > tr) tr = down;
    }
    const p = this.period;
    if (this.ready) {
      this.value = (this.value * (p - 1) + tr) / p;
      return this.value;
    }
    this.seedSum += tr;
    if (++this.count < p) return NaN;
    this.ready = true;
    this.value = this.seedSum / p;
    return this.value;
  }

  reset(): void {
    this.value = NaN;
    this.ready = false;
    this.prevClose = NaN;
    this.count = 0;
    this.seedSum = 0;
  }
}

/** Normalised ATR: ATR / close · 100, the average range as a percentage of the price. */
export class Natr {
  value = NaN;
  ready = false;
  private readonly atr: Atr;

  constructor(readonly period: number) {
    checkPeriod('Natr period', period);
    this.atr = new Atr(period);
  }

  update(high: number, low: number, close: number): number {
    const a = this.atr.update(high, low, close);
    if (!this.atr.ready) return NaN;
    this.ready = true;
    this.value = (a / close) * 100;
    return this.value;
  }

  reset(): void {
    this.value = NaN;
    this.ready = false;
    this.atr.reset();
  }
}
