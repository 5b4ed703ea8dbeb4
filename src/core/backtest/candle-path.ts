/**
 * The price path inside one candle. A candle only says where the price opened, closed and how far it
 * went either way, not in which order; the engine walks four points so that every barrier and resting
 * order is met in one defined order:
 *
 * - `direction` (default): an up candle (close >= open) goes O → L → H → C, a down candle O → H → L → C.
 *   The extreme against the candle's direction is assumed to come first, as the common candle-split
 *   rule does: a green candle dipped before it rose, a red one rose before it fell.
 * - `high_first`: always O → H → L → C.
 * - `low_first`: always O → L → H → C.
 *
 * Times: the open at the candle's open time t, the two extremes at t + interval/3 and t + 2·interval/3
 * (rounded down to the millisecond), the close at t + interval, the moment the candle closes.
 */
import type { CandleColumns } from './candle-loader.js';

export const FILL_PATHS = ['direction', 'high_first', 'low_first'] as const;
export type FillPath = (typeof FILL_PATHS)[number];

export const PATH_POINTS = 4;

/**
 * Writes the four path prices of candle `i` into `out`. The hot loop allocates nothing: `out` is reused,
 * and the candle is passed by index, since a price passed to a call that is not inlined is boxed.
 */
export function candlePath(c: Pick<CandleColumns, 'open' | 'high' | 'low' | 'close'>, i: number, convention: FillPath, out: Float64Array): Float64Array {
  const open = c.open[i]!;
  const close = c.close[i]!;
  const lowFirst = convention === 'low_first' || (convention === 'direction' && close >= open);
  out[0] = open;
  out[1] = lowFirst ? c.low[i]! : c.high[i]!;
  out[2] = lowFirst ? c.high[i]! : c.low[i]!;
  out[3] = close;
  return out;
}

/** The four path times of the candle opening at `times[i]`, into `out` (by index, as candlePath). */
export function pathTimes(times: Float64Array, i: number, intervalMs: number, out: Float64Array): Float64Array {
  const t = times[i]!;
  out[0] = t;
  out[1] = t + Math.floor(intervalMs / 3);
  out[2] = t + Math.floor((2 * intervalMs) / 3);
  out[3] = t + intervalMs;
  return out;
}
