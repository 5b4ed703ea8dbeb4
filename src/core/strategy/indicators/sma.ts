import { checkPeriod, exactEvery } from './period.js';

/** Simple moving average: the mean of the last `period` values, kept as a running sum over a ring buffer. */
export class Sma {
  value = NaN;
  ready = false;
  private readonly window: Float64Array;
  private readonly resumEvery: number;
  private count = 0;
  private head = 0;
  private sum = 0;
  private slides = 0;

  constructor(readonly period: number) {
    checkPeriod('Sma period', period);
    this.window = new Float64Array(period);
    this.resumEvery = exactEvery(period);
  }

  update(x: number): number {
    const p = this.period;
    if (this.count < p) {
      this.window[this.count++] = x;
      this.sum += x;
      if (this.count < p) return NaN;
      this.ready = true;
    } else {
      const old = this.window[this.head]!;
      this.window[this.head] = x;
      this.head = this.head + 1 === p ? 0 : this.head + 1;
      if (++this.slides === this.resumEvery) {
        this.slides = 0;
        let s = 0;
        for (let i = 0; i < p; i++) s += this.window[i]!;
        this.sum = s;
      } else {
        this.sum += x - old;
      }
    }
    this.value = this.sum / p;
    return this.value;
  }

  reset(): void {
    this.value = NaN;
    this.ready = false;
    this.count = 0;
    this.head = 0;
    this.sum = 0;
    this.slides = 0;
  }
}
