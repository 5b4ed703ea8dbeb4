import { seededRandom } from '../../src/core/backtest/seeded-random.js';

/**
 * A deterministic random walk of candles near 30,000 (far from zero, so precision shows), one `stepMs`
 * apart: each close moves up to ±0.2 %, highs and lows reach up to 0.1 % beyond open and close. Shared
 * by the indicator and controller tests and benches, so they all read the same kind of market.
 */
export function randomWalk(n: number, seed = 12345, stepMs = 60_000): { time: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array } {
  const rnd = seededRandom(seed);
  const time = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  let price = 30_000;
  for (let i = 0; i < n; i++) {
    const open = price;
    price *= 1 + (rnd() - 0.5) * 0.004;
    time[i] = i * stepMs;
    high[i] = Math.max(open, price) * (1 + rnd() * 0.001);
    low[i] = Math.min(open, price) * (1 - rnd() * 0.001);
    close[i] = price;
  }
  return { time, high, low, close };
}
