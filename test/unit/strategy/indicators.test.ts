import { describe, expect, it } from 'vitest';
import { ATR, BollingerBands as TsBollinger, EMA, MACD, NATR, RSI, SMA } from 'trading-signals';
import {
  Atr,
  BollingerBands,
  Ema,
  Macd,
  Natr,
  Rsi,
  Sma,
  Stdev,
  Supertrend,
  atr,
  bollinger,
  ema,
  macd,
  natr,
  rsi,
  sma,
  stdev,
  supertrend,
} from '../../../src/core/strategy/indicators/index.js';
import { randomWalk } from '../../helpers/random-walk.js';

const X = [1, 3, 2, 6, 4, 8, 5, 9, 7, 10];
// Bars for ATR and Supertrend: [high, low, close].
const BARS: [number, number, number][] = [
  [10, 8, 9],
  [12, 10, 11],
  [10.5, 7, 8],
  [9, 8.5, 8.8],
  [12, 9.5, 11],
];

/** Expects each position to be NaN where `want` is NaN and within `digits` decimals elsewhere. */
function expectSeries(got: ArrayLike<number>, want: number[], digits = 12): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    if (Number.isNaN(w)) expect(got[i], `index ${i}`).toBeNaN();
    else expect(got[i], `index ${i}`).toBeCloseTo(w, digits);
  });
}

const run = (ind: { update(x: number): number }, xs: number[]) => xs.map((x) => ind.update(x));
const N = NaN;

const relClose = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-12);

function expectAgree(ours: ArrayLike<number>, theirs: (number | null)[], from: number, label: string): void {
  let checked = 0;
  for (let i = from; i < ours.length; i++) {
    const t = theirs[i];
    if (t === null || t === undefined) throw new Error(`${label}: no reference value at ${i}`);
    if (!relClose(ours[i]!, t)) throw new Error(`${label}: ${ours[i]} vs ${t} at ${i}`);
    checked++;
  }
  expect(checked).toBeGreaterThan(1000);
}

describe('known answers on hand-worked series', () => {
  it('SMA(3) is the mean of the last three values', () => {
    expectSeries(run(new Sma(3), X), [N, N, 2, 11 / 3, 4, 6, 17 / 3, 22 / 3, 7, 26 / 3]);
  });

  it('EMA(3) starts from the SMA of the first three, then moves half way (α = 0.5) to each value', () => {
    expectSeries(run(new Ema(3), X), [N, N, 2, 4, 4, 6, 5.5, 7.25, 7.125, 8.5625]);
  });

  it('RSI(3) averages the first three changes, then smooths them the Wilder way', () => {
    // changes +2 −1 +4 → gain 2, loss 1/3 → RS 6; then −2 → 4/3 vs 8/9; +4 → 20/9 vs 16/27; −3 → 40/27 vs 113/81
    expectSeries(run(new Rsi(3), X).slice(0, 7), [N, N, N, 600 / 7, 60, 1500 / 19, 12000 / 233]);
  });

  it('RSI reads 100 without losses, 0 without gains and 50 on a flat window', () => {
    expect(run(new Rsi(2), [1, 2, 3, 4]).at(-1)).toBe(100);
    expect(run(new Rsi(2), [4, 3, 2, 1]).at(-1)).toBe(0);
    expect(run(new Rsi(2), [5, 5, 5, 5]).at(-1)).toBe(50);
  });

  it('Stdev(3) is the population standard deviation (ddof 0)', () => {
    expectSeries(run(new Stdev(3), X).slice(0, 5), [N, N, Math.sqrt(2 / 3), Math.sqrt(26) / 3, Math.sqrt(8 / 3)]);
  });

  it('Bollinger(3, 2): bands at mean ± 2 population stdev, percentB and bandwidth', () => {
    const bb = new BollingerBands(3, 2);
    const pb = run(bb, X.slice(0, 5));
    const sd = Math.sqrt(8 / 3); // window 2, 6, 4: mean 4
    expectSeries(pb, [N, N, pb[2]!, pb[3]!, 0.5]);
    expect(bb.middle).toBeCloseTo(4, 12);
    expect(bb.upper).toBeCloseTo(4 + 2 * sd, 12);
    expect(bb.lower).toBeCloseTo(4 - 2 * sd, 12);
    expect(bb.bandwidth).toBeCloseTo(100 * sd, 12);
    // window 4, 8 after 6: mean 6, the same stdev; close 8 sits 2 above the middle
    expect(bb.update(8)).toBeCloseTo(0.5 + 0.5 / sd, 12);
    expect(bb.bandwidth).toBeCloseTo((100 * 4 * sd) / 6, 12);
  });

  it('Bollinger percentB is 0.5 when the bands coincide on a flat window', () => {
    const bb = new BollingerBands(3, 2);
    expect(run(bb, [7, 7, 7]).at(-1)).toBe(0.5);
    expect(bb.bandwidth).toBe(0);
  });

  it('ATR(3) and NATR(3): the mean of the first three true ranges, then Wilder smoothing', () => {
    // true ranges 2 (no previous close), 3, 4 (low 7 under the close 11), 1, 3.2
    const a = new Atr(3);
    const n = new Natr(3);
    expectSeries(
      BARS.map(([h, l, c]) => a.update(h, l, c)),
      [N, N, 3, 7 / 3, 23.6 / 9],
    );
    expectSeries(
      BARS.map(([h, l, c]) => n.update(h, l, c)),
      [N, N, 37.5, (7 / 3 / 8.8) * 100, (23.6 / 9 / 11) * 100],
    );
  });

  it('MACD(2, 3, 2): EMA2 − EMA3, its EMA2 as the signal, and their difference', () => {
    const m = new Macd(2, 3, 2);
    const out = X.slice(0, 6).map((x) => [m.update(x), m.signal, m.histogram]);
    expectSeries(
      out.map((r) => r[0]!),
      [N, N, 0, 2 / 3, 2 / 9, 20 / 27],
    );
    expectSeries(
      out.map((r) => r[1]!),
      [N, N, N, 1 / 3, 7 / 27, 47 / 81],
    );
    expectSeries(
      out.map((r) => r[2]!),
      [N, N, N, 1 / 3, -1 / 27, 13 / 81],
    );
    expect(m.ready).toBe(true);
  });

  it('Supertrend(2, 1): starts up, flips on a close through the previous band, tightens the band under the line', () => {
    const st = new Supertrend(2, 1);
    const bars: [number, number, number][] = [
      [10, 8, 9],
      [12, 10, 11], // ATR 2.5, bands 13.5 / 8.5, up
      [13, 11, 12.5], // ATR 2.25, lower 9.75
      [11, 8, 8.5], // ATR 3.375: close under 9.75 → down, line on the upper band 12.875
      [10, 8.5, 9.5], // ATR 2.4375, upper 11.6875 (lower than 12.875, taken)
      [12.5, 11, 12], // ATR 2.71875: close over 11.6875 → up, lower 9.03125
      [11.5, 10.5, 11], // ATR 2.109375: new lower 8.890625 is looser, 9.03125 is kept
    ];
    const got = bars.map(([h, l, c]) => [st.update(h, l, c), st.direction]);
    expectSeries(
      got.map((r) => r[0]!),
      [N, 8.5, 9.75, 12.875, 11.6875, 9.03125, 9.03125],
    );
    expect(got.map((r) => r[1])).toEqual([0, 1, 1, -1, -1, 1, 1]);
  });

  it('rejects a period that is not a positive integer', () => {
    expect(() => new Sma(0)).toThrow(RangeError);
    expect(() => new Ema(2.5)).toThrow(RangeError);
    expect(() => new Atr(-1)).toThrow(RangeError);
    expect(() => new BollingerBands(20, NaN)).toThrow(RangeError);
  });
});

describe('agreement with trading-signals on a long random walk (1e-9 relative)', () => {
  const { high, low, close } = randomWalk(20_000, 7);
  const candles = Array.from(close, (c, i) => ({ high: high[i]!, low: low[i]!, close: c }));

  it('SMA, RSI and Bollinger from their first value', () => {
    for (const p of [5, 14, 50]) {
      const ts = new SMA(p);
      expectAgree(sma(close, p), Array.from(close, (c) => ts.update(c, false)), p - 1, `sma ${p}`);
      const tr = new RSI(p);
      expectAgree(rsi(close, p), Array.from(close, (c) => tr.update(c, false)), p, `rsi ${p}`);
      const tb = new TsBollinger(p, 2);
      const theirs = Array.from(close, (c) => tb.update(c, false));
      const ours = bollinger(close, p, 2);
      expectAgree(ours.upper, theirs.map((r) => r?.upper ?? null), p - 1, `bb upper ${p}`);
      expectAgree(ours.middle, theirs.map((r) => r?.middle ?? null), p - 1, `bb middle ${p}`);
      expectAgree(ours.lower, theirs.map((r) => r?.lower ?? null), p - 1, `bb lower ${p}`);
    }
  });

  it('ATR and NATR (Wilder) from their first value', () => {
    for (const p of [3, 14, 50]) {
      const ta = new ATR(p);
      expectAgree(atr(high, low, close, p), candles.map((c) => ta.update(c, false)), p - 1, `atr ${p}`);
      const tn = new NATR(p);
      expectAgree(natr(high, low, close, p), candles.map((c) => tn.update(c, false)), p - 1, `natr ${p}`);
    }
  });

  it('EMA and MACD once the different seeds have decayed (theirs starts from the first value, ours from an SMA)', () => {
    for (const p of [5, 14, 50]) {
      const te = new EMA(p);
      expectAgree(ema(close, p), Array.from(close, (c) => te.update(c, false)), 3000, `ema ${p}`);
    }
    const tm = new MACD(new EMA(12), new EMA(26), new EMA(9));
    const theirs = Array.from(close, (c) => tm.update(c, false));
    const ours = macd(close, 12, 26, 9);
    // MACD is a difference of two close averages, so compare relative to the price, not to the MACD itself.
    for (let i = 3000; i < close.length; i++) {
      const t = theirs[i]!;
      expect(Math.abs(ours.macd[i]! - t.macd)).toBeLessThan(1e-9 * close[i]!);
      expect(Math.abs(ours.signal[i]! - t.signal)).toBeLessThan(1e-9 * close[i]!);
      expect(Math.abs(ours.histogram[i]! - t.histogram)).toBeLessThan(1e-9 * close[i]!);
    }
  });

  it('Stdev stays within 1e-9 of a two-pass computation of each window over a long run', () => {
    const p = 20;
    const ours = stdev(close, p);
    for (let i = p - 1; i < close.length; i++) {
      let s = 0;
      for (let j = i - p + 1; j <= i; j++) s += close[j]!;
      const mean = s / p;
      let m2 = 0;
      for (let j = i - p + 1; j <= i; j++) m2 += (close[j]! - mean) ** 2;
      const want = Math.sqrt(m2 / p);
      if (!relClose(ours[i]!, want)) throw new Error(`stdev ${ours[i]} vs ${want} at ${i}`);
    }
  });
});

describe('batch helpers', () => {
  const { high, low, close } = randomWalk(3_000, 11);

  it('equal the incremental classes value for value, with NaN warm-up', () => {
    const same = (batch: Float64Array, live: number[]) => expect(Array.from(batch)).toEqual(live);
    const per = <T>(make: () => T, f: (ind: T, i: number) => number) => {
      const ind = make();
      return Array.from(close, (_, i) => f(ind, i));
    };
    same(sma(close, 10), per(() => new Sma(10), (s, i) => s.update(close[i]!)));
    same(ema(close, 10), per(() => new Ema(10), (s, i) => s.update(close[i]!)));
    same(rsi(close, 14), per(() => new Rsi(14), (s, i) => s.update(close[i]!)));
    same(stdev(close, 20), per(() => new Stdev(20), (s, i) => s.update(close[i]!)));
    same(atr(high, low, close, 14), per(() => new Atr(14), (s, i) => s.update(high[i]!, low[i]!, close[i]!)));
    same(natr(high, low, close, 14), per(() => new Natr(14), (s, i) => s.update(high[i]!, low[i]!, close[i]!)));
    const bb = new BollingerBands(20, 2);
    const b = bollinger(close, 20, 2);
    close.forEach((c, i) => {
      expect(b.percentB[i]).toEqual(bb.update(c));
      expect([b.upper[i], b.middle[i], b.lower[i], b.bandwidth[i]]).toEqual([bb.upper, bb.middle, bb.lower, bb.bandwidth]);
    });
    const m = new Macd(12, 26, 9);
    const mb = macd(close, 12, 26, 9);
    close.forEach((c, i) => {
      expect(mb.macd[i]).toEqual(m.update(c));
      expect([mb.signal[i], mb.histogram[i]]).toEqual([m.signal, m.histogram]);
    });
    const st = new Supertrend(10, 3);
    const sb = supertrend(high, low, close, 10, 3);
    close.forEach((c, i) => {
      expect(sb.value[i]).toEqual(st.update(high[i]!, low[i]!, c));
      expect(sb.direction[i]).toBe(st.direction);
    });
    expect(sb.direction.slice(0, 9).every((d) => d === 0)).toBe(true);
    expect(sb.direction.slice(9).every((d) => d === 1 || d === -1)).toBe(true);
  });

  it('are causal: changing the inputs after i leaves every output up to i unchanged', () => {
    const cut = 1_500;
    const h2 = high.slice();
    const l2 = low.slice();
    const c2 = close.slice();
    for (let i = cut + 1; i < c2.length; i++) {
      c2[i] = c2[i]! * 1.5;
      h2[i] = h2[i]! * 1.6;
      l2[i] = l2[i]! * 1.4;
    }
    const pairs: [Float64Array, Float64Array][] = [
      [sma(close, 10), sma(c2, 10)],
      [ema(close, 10), ema(c2, 10)],
      [rsi(close, 14), rsi(c2, 14)],
      [stdev(close, 20), stdev(c2, 20)],
      [atr(high, low, close, 14), atr(h2, l2, c2, 14)],
      [natr(high, low, close, 14), natr(h2, l2, c2, 14)],
      [bollinger(close, 20, 2).percentB, bollinger(c2, 20, 2).percentB],
      [macd(close, 12, 26, 9).histogram, macd(c2, 12, 26, 9).histogram],
      [supertrend(high, low, close, 10, 3).value, supertrend(h2, l2, c2, 10, 3).value],
    ];
    for (const [a, b] of pairs) {
      expect(Array.from(a.subarray(0, cut + 1))).toEqual(Array.from(b.subarray(0, cut + 1)));
      expect(a[cut + 1]).not.toEqual(b[cut + 1]);
    }
  });

  it('refuse high, low and close of different lengths', () => {
    expect(() => atr([1, 2], [1], [1, 2], 1)).toThrow(RangeError);
  });
});

describe('reset()', () => {
  it('returns every class to its fresh state, so a second pass repeats the first', () => {
    const { high, low, close } = randomWalk(200, 3);
    const makers: [string, () => { update(...a: number[]): number; reset(): void; ready: boolean }, boolean][] = [
      ['sma', () => new Sma(10), false],
      ['ema', () => new Ema(10), false],
      ['rsi', () => new Rsi(14), false],
      ['stdev', () => new Stdev(20), false],
      ['bollinger', () => new BollingerBands(20, 2), false],
      ['macd', () => new Macd(12, 26, 9), false],
      ['atr', () => new Atr(14), true],
      ['natr', () => new Natr(14), true],
      ['supertrend', () => new Supertrend(10, 3), true],
    ];
    for (const [name, make, bars] of makers) {
      const ind = make();
      const pass = () => Array.from(close, (c, i) => (bars ? ind.update(high[i]!, low[i]!, c) : ind.update(c)));
      const first = pass();
      expect(ind.ready, name).toBe(true);
      ind.reset();
      expect(ind.ready, name).toBe(false);
      expect(pass(), name).toEqual(first);
    }
    const st = new Supertrend(3, 2);
    for (let i = 0; i < 10; i++) st.update(high[i]!, low[i]!, close[i]!);
    st.reset();
    expect([st.value, st.direction]).toEqual([NaN, 0]);
  });
});
