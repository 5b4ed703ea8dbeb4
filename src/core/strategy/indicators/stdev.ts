import { checkPeriod, exactEvery } from './period.js';

/**
 * Population standard deviation (divides by `period`, ddof 0) of the last `period` values, with their
 * mean in `mean`. The window slides with Welford's update (mean and sum of squared deviations move by
 * the value that enters and the one that leaves), which keeps the precision that sum-of-squares loses
 * on prices far from zero; both are recomputed from the window every few thousand slides so rounding
 * cannot accumulate.
 */
export class Stdev {
  value = NaN;
  mean = NaN;
  ready = false;
  private readonly window: Float64Array;
  private readonly exactAfter: number;
  private count = 0;
  private head = 0;
  private runMean = 0;
  private m2 = 0;
  private slides = 0;

  constructor(readonly period: number) {
    checkPeriod('Stdev period', period);
    this.window = new Float64Array(period);
    this.exactAfter = exactEvery(period);
  }

  update(x: number): number {
    const p = this.period;
    if (this.count < p) {
      this.window[this.count++] = x;
      const d = x - this.runMean;
      this.runMean += d / this.count;
      this.m2 += d * (x - this.runMean);
      if (this.count < p) return NaN;
      this.ready = true;
    } else {
      const old = this.window[this.head]!;
      this.window[this.head] = x;
      this.head = this.head + 1 === p ? 0 : this.head + 1;
      if (++this.slides === this.exactAfter) {
        this.slides = 0;
        this.recompute();
      } else {
        const prevMean = this.runMean;
        this.runMean += (x - old) / p;
        this.m2 += (x - old) * (x - this.runMean + old - prevMean);
      }
    }
    this.mean = this.runMean;
    this.value = this.m2 > 0 ? Math.sqrt(this.m2 / p) : 0;
    return this.value;
  }

  /** Two passes over the window: the exact mean, then the squared deviations from it. */
  private recompute(): void {
    const p = this.period;
    let s = 0;
    for (let i = 0; i < p; i++) s += this.window[i]!;
    const mean = s / p;
    let m2 = 0;
    for (let i = 0; i < p; i++) {
      const d = this.window[i]! - mean;
      m2 += d * d;
    }
    this.runMean = mean;
    this.m2 = m2;
  }

  reset(): void {
    this.value = NaN;
    this.mean = NaN;
    this.ready = false;
    this.count = 0;
    this.head = 0;
    this.runMean = 0;
    this.m2 = 0;
    this.slides = 0;
  }
}
