import { Atr } from './atr.js';

/**
 * Supertrend over the Wilder ATR of `length` bars. Basic bands are hl2 ± multiplier · ATR. From the
 * first bar with an ATR (index length − 1, direction 1, line on the lower band) each bar:
 * - close above the previous upper band turns it up (1), below the previous lower band down (−1);
 * - otherwise the direction holds and the band under the line only tightens: an up trend keeps the
 *   higher of the new and previous lower band, a down trend the lower of the new and previous upper band;
 * - the line is the lower band in an up trend and the upper band in a down trend.
 * The bands and the comparison against the previous bands follow pandas-ta's `supertrend`.
 */
export class Supertrend {
  value = NaN;
  /** 1 up (long), −1 down (short), 0 before the first ATR. */
  direction = 0;
  ready = false;
  private readonly atr: Atr;
  private upper = NaN;
  private lower = NaN;

  constructor(
    readonly length: number,
    readonly multiplier: number,
  ) {
    if (!Number.isFinite(multiplier)) throw new RangeError(`Supertrend multiplier must be a finite number (got ${multiplier})`);
    this.atr = new Atr(length);
  }

  /** Returns the line. */
  update(high: number, low: number, close: number): number {
    const a = this.atr.update(high, low, close);
    if (!this.atr.ready) return NaN;
    const mid = (high + low) / 2;
    let upper = mid + this.multiplier * a;
    let lower = mid - this.multiplier * a;
    if (!this.ready) {
      this.ready = true;
      this.direction = 1;
    } else if (close > this.upper) {
      this.direction = 1;
    } else if (close < this.lower) {
      this.direction = -1;
    } else if (this.direction > 0) {
      if (lower < this.lower) lower = this.lower;
    } else if (upper > this.upper) {
      upper = this.upper;
    }
    this.upper = upper;
    this.lower = lower;
    this.value = this.direction > 0 ? lower : upper;
    return this.value;
  }

  reset(): void {
    this.value = this.upper = this.lower = NaN;
    this.direction = 0;
    this.ready = false;
    this.atr.reset();
  }
}
