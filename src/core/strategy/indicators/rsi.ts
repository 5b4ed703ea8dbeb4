import { checkPeriod } from './period.js';

/**
 * Relative strength index with Wilder smoothing: the average gain and loss of the first `period` changes
 * are plain means, then avg = (avg·(period − 1) + change) / period. RSI = 100 − 100 / (1 + gain/loss).
 * Needs period + 1 values (the first value is at index `period`). A window without losses reads 100,
 * without gains 0, and a flat one 50 (neither side moved).
 */
export class Rsi {
  value = NaN;
  ready = false;
  private started = false;
  private prev = NaN;
  private changes = 0;
  private avgGain = 0;
  private avgLoss = 0;

  constructor(readonly period: number) {
    checkPeriod('Rsi period', period);
  }

  update(x: number): number {
    const prev = this.prev;
    this.prev = x;
    if (!this.started) {
      this.started = true;
      return NaN;
    }
    const d = x - prev;
    const gain = d > 0 ? d : 0;
    const loss = d < 0 ? -d : 0;
    const p = this.period;
    if (this.ready) {
      this.avgGain = (this.avgGain * (p - 1) + gain) / p;
      this.avgLoss = (this.avgLoss * (p - 1) + loss) / p;
    } else {
      this.avgGain += gain;
      this.avgLoss += loss;
      if (++this.changes < p) return NaN;
      this.avgGain /= p;
      this.avgLoss /= p;
      this.ready = true;
    }
    const g = this.avgGain;
    const l = this.avgLoss;
    this.value = l === 0 ? (g === 0 ? 50 : 100) : 100 - 100 / (1 + g / l);
    return this.value;
  }

  reset(): void {
    this.value = NaN;
    this.ready = false;
    this.started = false;
    this.prev = NaN;
    this.changes = 0;
    this.avgGain = 0;
    this.avgLoss = 0;
  }
}
