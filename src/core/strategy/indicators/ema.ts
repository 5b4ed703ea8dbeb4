import { checkPeriod } from './period.js';

/**
 * Exponential moving average with α = 2 / (period + 1), seeded with the SMA of the first `period`
 * values (the first value is at index period − 1), then ema = ema + α·(x − ema).
 */
export class Ema {
  value = NaN;
  ready = false;
  private readonly alpha: number;
  private count = 0;
  private seedSum = 0;

  constructor(readonly period: number) {
    checkPeriod('Ema period', period);
    this.alpha = 2 / (period + 1);
  }

  update(x: number): number {
    if (this.ready) {
      this.value += this.alpha * (x - this.value);
      return this.value;
    }
    this.seedSum += x;
    if (++this.count < this.period) return NaN;
    this.ready = true;
    this.value = this.seedSum / this.period;
    return this.value;
  }

  reset(): void {
    this.value = NaN;
    this.ready = false;
    this.count = 0;
    this.seedSum = 0;
  }
}
