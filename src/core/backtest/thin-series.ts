/** A backtest's series thinned for storage or for a model: evenly spaced points, the last always kept. */
import type { BacktestResult } from './engine.js';

/** Indexes of `n` points thinned to at most `max`: evenly spaced, the last point always kept. */
export function thinIndexes(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const stride = Math.ceil(n / max);
  const out: number[] = [];
  for (let i = (n - 1) % stride; i < n; i += stride) out.push(i);
  return out;
}

/** The series at most `max` points, all four lists at the same indexes; `thinned_from` counts the points of the run (kept when thinned again). */
export function thinSeries(series: BacktestResult['series'] & { thinned_from?: number }, max: number): BacktestResult['series'] & { thinned_from: number } {
  const idx = thinIndexes(series.time.length, max);
  const pick = (a: number[]) => idx.map((i) => a[i]!);
  return { time: pick(series.time), pnl: pick(series.pnl), position: pick(series.position), price: pick(series.price), thinned_from: series.thinned_from ?? series.time.length };
}
