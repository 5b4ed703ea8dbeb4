import { normal, streamKey, uniform } from './random.js';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
/** Simulated history starts here; anything earlier is refused by the caller. */
export const SIM_EPOCH_MS = Date.UTC(2015, 0, 1);
const MINUTES_PER_DAY = 1440;

/** Volatility multipliers of the calm, normal and turbulent regimes. */
const REGIME_VOL = [0.55, 1, 1.9] as const;
/** Chance per day that the regime is drawn anew. */
const REGIME_SWITCH = 0.06;
/** Daily pull of the log price back toward its start, so years of history stay in a sensible range. */
const MEAN_REVERSION = 0.004;

export interface Candle {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/**
 * A deterministic price process for one market. Daily log prices follow a mean-reverting random walk
 * whose volatility switches between regimes; inside a day, minute prices are a Brownian bridge between
 * the day's endpoints, and inside a minute, second prices a bridge between the minute's endpoints.
 * Every value is a pure function of (seed, market, time), so history is unlimited and reproducible,
 * and "now" keeps moving while the server runs.
 */
export class PriceModel {
  readonly #key: number;
  readonly #logStart: number;
  readonly #dailySigma: number;
  readonly #baseVolume: number;
  /** Log price at the start of each day since the epoch, and the regime of that day. */
  #dayLog: number[] = [];
  #dayRegime: number[] = [];
  readonly #minuteCache = new Map<number, Float64Array>();

  constructor(seed: string, market: string, startPrice: number, annualVolatility: number, baseVolumePerMinute: number) {
    this.#key = streamKey(`${seed}/${market}`);
    this.#logStart = Math.log(startPrice);
    this.#dailySigma = annualVolatility / Math.sqrt(365);
    this.#baseVolume = baseVolumePerMinute;
    this.#dayLog = [this.#logStart];
    this.#dayRegime = [1];
  }

  #ensureDay(day: number): void {
    for (let d = this.#dayLog.length; d <= day + 1; d++) {
      const prevRegime = this.#dayRegime[d - 1]!;
      const regime = uniform(this.#key, d, 1) < REGIME_SWITCH ? Math.floor(uniform(this.#key, d, 2) * 3) : prevRegime;
      const prev = this.#dayLog[d - 1]!;
      const sigma = this.#dailySigma * REGIME_VOL[prevRegime as 0 | 1 | 2];
      this.#dayLog.push(prev - MEAN_REVERSION * (prev - this.#logStart) + sigma * normal(this.#key, d, 3));
      this.#dayRegime.push(regime);
    }
  }

  regimeOf(day: number): 0 | 1 | 2 {
    this.#ensureDay(day);
    return this.#dayRegime[day] as 0 | 1 | 2;
  }

  /** Log prices at each minute boundary of a day (1441 points), as a bridge between the day's ends. */
  #minutes(day: number): Float64Array {
    let path = this.#minuteCache.get(day);
    if (path) return path;
    this.#ensureDay(day);
    const start = this.#dayLog[day]!;
    const end = this.#dayLog[day + 1]!;
    const step = (this.#dailySigma * REGIME_VOL[this.#dayRegime[day] as 0 | 1 | 2]) / Math.sqrt(MINUTES_PER_DAY);
    path = new Float64Array(MINUTES_PER_DAY + 1);
    let w = 0;
    for (let k = 1; k <= MINUTES_PER_DAY; k++) {
      w += step * normal(this.#key, day, 10, k);
      path[k] = w;
    }
    const wEnd = path[MINUTES_PER_DAY]!;
    for (let k = 0; k <= MINUTES_PER_DAY; k++) {
      const f = k / MINUTES_PER_DAY;
      path[k] = start + path[k]! - f * wEnd + f * (end - start);
    }
    if (this.#minuteCache.size > 64) this.#minuteCache.delete(this.#minuteCache.keys().next().value!);
    this.#minuteCache.set(day, path);
    return path;
  }

  #minuteLog(minuteIndex: number): number {
    const day = Math.floor(minuteIndex / MINUTES_PER_DAY);
    return this.#minutes(day)[minuteIndex - day * MINUTES_PER_DAY]!;
  }

  #minuteStep(minuteIndex: number): number {
    const day = Math.floor(minuteIndex / MINUTES_PER_DAY);
    return (this.#dailySigma * REGIME_VOL[this.regimeOf(day)]) / Math.sqrt(MINUTES_PER_DAY);
  }

  /** The 1-minute candle starting at `minuteIndex` minutes after the epoch. */
  minuteCandle(minuteIndex: number): Candle {
    const o = this.#minuteLog(minuteIndex);
    const c = this.#minuteLog(minuteIndex + 1);
    const s = this.#minuteStep(minuteIndex);
    const hi = Math.max(o, c) + Math.abs(normal(this.#key, minuteIndex, 20)) * s * 0.5;
    const lo = Math.min(o, c) - Math.abs(normal(this.#key, minuteIndex, 21)) * s * 0.5;
    const regime = REGIME_VOL[this.regimeOf(Math.floor(minuteIndex / MINUTES_PER_DAY))];
    const volume = this.#baseVolume * regime * (0.4 + 1.2 * uniform(this.#key, minuteIndex, 22)) * (1 + Math.abs(c - o) / s);
    return { open: Math.exp(o), high: Math.exp(hi), low: Math.exp(lo), close: Math.exp(c), volume };
  }

  /** The candle covering [startMs, startMs + intervalMs), built from its minute candles. */
  candle(startMs: number, intervalMs: number): Candle {
    const first = Math.floor((startMs - SIM_EPOCH_MS) / MINUTE_MS);
    const n = Math.max(1, Math.round(intervalMs / MINUTE_MS));
    const c0 = this.minuteCandle(first);
    const out = { ...c0 };
    for (let i = 1; i < n; i++) {
      const c = this.minuteCandle(first + i);
      if (c.high > out.high) out.high = c.high;
      if (c.low < out.low) out.low = c.low;
      out.close = c.close;
      out.volume += c.volume;
    }
    return out;
  }

  /** The price at any millisecond: a per-second bridge inside the minute, kept within its candle. */
  priceAt(tMs: number): number {
    const rel = tMs - SIM_EPOCH_MS;
    const minute = Math.floor(rel / MINUTE_MS);
    const candle = this.minuteCandle(minute);
    const secondsIn = (rel - minute * MINUTE_MS) / 1000;
    const sec = Math.floor(secondsIn);
    const s = this.#minuteStep(minute) / Math.sqrt(60);
    let w = 0;
    let wEnd = 0;
    for (let k = 1; k <= 60; k++) {
      wEnd += s * normal(this.#key, minute, 30, k);
      if (k === sec) w = wEnd;
    }
    const f = sec / 60;
    const lo = Math.log(candle.open);
    const lc = Math.log(candle.close);
    const log = lo + w - f * wEnd + f * (lc - lo);
    return Math.min(candle.high, Math.max(candle.low, Math.exp(log)));
  }
}
