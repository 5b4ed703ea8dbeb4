import { Atr, Natr } from './atr.js';
import { BollingerBands } from './bollinger.js';
import { Ema } from './ema.js';
import { Macd } from './macd.js';
import { Rsi } from './rsi.js';
import { Sma } from './sma.js';
import { Stdev } from './stdev.js';
import { Supertrend } from './supertrend.js';

/**
 * Whole-series forms of the incremental indicators, for backtests that precompute a column per
 * parameter set. Each runs the class over the inputs in order, so value i depends only on inputs ≤ i
 * and equals what the class returned live; warm-up positions are NaN.
 */

type Series = ArrayLike<number>;

function single(ind: { update(x: number): number }, values: Series): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = ind.update(values[i]!);
  return out;
}

function candles(ind: { update(h: number, l: number, c: number): number }, high: Series, low: Series, close: Series): Float64Array {
  const n = sameLength(high, low, close);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = ind.update(high[i]!, low[i]!, close[i]!);
  return out;
}

function sameLength(high: Series, low: Series, close: Series): number {
  if (high.length !== low.length || low.length !== close.length) throw new RangeError(`high, low and close differ in length (${high.length}, ${low.length}, ${close.length})`);
  return close.length;
}

export const sma = (values: Series, period: number): Float64Array => single(new Sma(period), values);
export const ema = (values: Series, period: number): Float64Array => single(new Ema(period), values);
export const rsi = (values: Series, period: number): Float64Array => single(new Rsi(period), values);
export const stdev = (values: Series, period: number): Float64Array => single(new Stdev(period), values);
export const atr = (high: Series, low: Series, close: Series, period: number): Float64Array => candles(new Atr(period), high, low, close);
export const natr = (high: Series, low: Series, close: Series, period: number): Float64Array => candles(new Natr(period), high, low, close);

export interface BollingerSeries {
  upper: Float64Array;
  middle: Float64Array;
  lower: Float64Array;
  percentB: Float64Array;
  bandwidth: Float64Array;
}

export function bollinger(values: Series, period: number, k: number): BollingerSeries {
  const bb = new BollingerBands(period, k);
  const n = values.length;
  const out: BollingerSeries = { upper: new Float64Array(n), middle: new Float64Array(n), lower: new Float64Array(n), percentB: new Float64Array(n), bandwidth: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    bb.update(values[i]!);
    out.upper[i] = bb.upper;
    out.middle[i] = bb.middle;
    out.lower[i] = bb.lower;
    out.percentB[i] = bb.percentB;
    out.bandwidth[i] = bb.bandwidth;
  }
  return out;
}

export interface MacdSeries {
  macd: Float64Array;
  signal: Float64Array;
  histogram: Float64Array;
}

export function macd(values: Series, fast: number, slow: number, signal: number): MacdSeries {
  const m = new Macd(fast, slow, signal);
  const n = values.length;
  const out: MacdSeries = { macd: new Float64Array(n), signal: new Float64Array(n), histogram: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    out.macd[i] = m.update(values[i]!);
    out.signal[i] = m.signal;
    out.histogram[i] = m.histogram;
  }
  return out;
}

export interface SupertrendSeries {
  value: Float64Array;
  direction: Float64Array;
}

export function supertrend(high: Series, low: Series, close: Series, length: number, multiplier: number): SupertrendSeries {
  const st = new Supertrend(length, multiplier);
  const n = sameLength(high, low, close);
  const out: SupertrendSeries = { value: new Float64Array(n), direction: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    out.value[i] = st.update(high[i]!, low[i]!, close[i]!);
    out.direction[i] = st.direction;
  }
  return out;
}
