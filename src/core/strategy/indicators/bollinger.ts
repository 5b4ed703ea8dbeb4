import { Stdev } from './stdev.js';

/**
 * Bollinger bands: middle = SMA(period), upper/lower = middle ± k · population stdev of the same window.
 * percentB = (close − lower) / (upper − lower), and 0.5 when the bands coincide (a flat window, where
 * the close sits on the middle); bandwidth = 100 · (upper − lower) / middle.
 */
export class BollingerBands {
  upper = NaN;
  middle = NaN;
  lower = NaN;
  percentB = NaN;
  bandwidth = NaN;
  ready = false;
  private readonly sd: Stdev;

  constructor(
    readonly period: number,
    readonly k: number,
  ) {
    if (!Number.isFinite(k)) throw new RangeError(`BollingerBands k must be a finite number (got ${k})`);
    this.sd = new Stdev(period);
  }

  /** Returns percentB. */
  update(close: number): number {
    const sd = this.sd.update(close);
    if (!this.sd.ready) return NaN;
    this.ready = true;
    const mid = this.sd.mean;
    const half = this.k * sd;
    this.middle = mid;
    this.upper = mid + half;
    this.lower = mid - half;
    const width = this.upper - this.lower;
    this.percentB = width === 0 ? 0.5 : (close - this.lower) / width;
    this.bandwidth = (100 * width) / mid;
    return this.percentB;
  }

  reset(): void {
    this.upper = this.middle = this.lower = this.percentB = this.bandwidth = NaN;
    this.ready = false;
    this.sd.reset();
  }
}
