import { Ema } from './ema.js';

/**
 * MACD: macd = EMA(fast) − EMA(slow), signal = EMA(signal) of macd, histogram = macd − signal, with the
 * SMA-seeded EMA of `Ema`. `macd` is defined once both averages are (index max(fast, slow) − 1);
 * `signal`, `histogram` and `ready` follow `signal − 1` values later.
 */
export class Macd {
  macd = NaN;
  signal = NaN;
  histogram = NaN;
  ready = false;
  private readonly fastEma: Ema;
  private readonly slowEma: Ema;
  private readonly signalEma: Ema;

  constructor(
    readonly fast: number,
    readonly slow: number,
    readonly signalPeriod: number,
  ) {
    this.fastEma = new Ema(fast);
    this.slowEma = new Ema(slow);
    this.signalEma = new Ema(signalPeriod);
  }

  /** Returns macd. */
  update(close: number): number {
    const f = this.fastEma.update(close);
    const s = this.slowEma.update(close);
    if (!this.fastEma.ready || !this.slowEma.ready) return NaN;
    const m = f - s;
    this.macd = m;
    const sig = this.signalEma.update(m);
    if (this.signalEma.ready) {
      this.ready = true;
      this.signal = sig;
      this.histogram = m - sig;
    }
    return m;
  }

  reset(): void {
    this.macd = this.signal = this.histogram = NaN;
    this.ready = false;
    this.fastEma.reset();
    this.slowEma.reset();
    this.signalEma.reset();
  }
}
