/**
 * Indicator updates: our incremental classes (src/core/strategy/indicators) against trading-signals'
 * classes (since its 7.x these are the number-based ones; the big.js classes are gone) on the same
 * series, in the same process, rounds interleaved so a load spike hits both sides alike.
 *
 *   npx tsx bench/indicators.bench.ts
 *   BENCH_N=525600 BENCH_ROUNDS=7 npx tsx bench/indicators.bench.ts
 *   BENCH_ONLY=EMA,MACD npx tsx bench/indicators.bench.ts     # only these rows
 *
 * Each row: nanoseconds per update (median of the rounds) for ours and theirs, and theirs / ours. A
 * row's verdict is `ours` when theirs takes at least PICK_MARGIN times as long, `trading-signals` when
 * ours does, and `tie` in between.
 */
import { ATR, BollingerBands as TsBollinger, EMA, MACD, NATR, RSI, SMA, SuperTrend } from 'trading-signals';
import { Atr, BollingerBands, Ema, Macd, Natr, Rsi, Sma, Stdev, Supertrend } from '../src/core/strategy/indicators/index.js';
import { cpuMeter, cpuWarnings, fmt, intEnv, printTable, ratio, round } from './lib/harness.js';
import { randomWalk } from '../test/helpers/random-walk.js';

const N = intEnv('BENCH_N', 525_600);
const ROUNDS = intEnv('BENCH_ROUNDS', 7);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim().toUpperCase())) : null;
const PICK_MARGIN = 1.2;

const { high, low, close } = randomWalk(N);
// trading-signals takes a candle object per update; built once, outside the timing, as a caller would hold them.
const candles = Array.from(close, (c, i) => ({ open: c, high: high[i]!, low: low[i]!, close: c }));

/** Sums what each run returns so no update can be skipped as unused. */
let sink = 0;

/**
 * trading-signals' EMA starts from the first value; this gives it the SMA seed our contract asks for by
 * feeding the mean of the first `period` values as its first input.
 */
class SeededTsEma {
  value = NaN;
  private readonly ema: EMA;
  private count = 0;
  private seedSum = 0;

  constructor(private readonly period: number) {
    this.ema = new EMA(period);
  }

  update(x: number): number {
    if (this.count === this.period) return (this.value = this.ema.update(x, false));
    this.seedSum += x;
    if (++this.count < this.period) return NaN;
    return (this.value = this.ema.update(this.seedSum / this.period, false));
  }
}

type Run = () => void;
interface Case {
  name: string;
  params: string;
  ours: Run;
  theirs?: Run;
  note?: string;
}

const cases: Case[] = [
  {
    name: 'SMA',
    params: '20',
    ours: () => {
      const x = new Sma(20);
      for (let i = 0; i < N; i++) x.update(close[i]!);
      sink += x.value;
    },
    theirs: () => {
      const x = new SMA(20);
      for (let i = 0; i < N; i++) x.update(close[i]!, false);
      sink += x.getResultOrThrow();
    },
  },
  {
    name: 'EMA',
    params: '20',
    ours: () => {
      const x = new Ema(20);
      for (let i = 0; i < N; i++) x.update(close[i]!);
      sink += x.value;
    },
    theirs: () => {
      const x = new EMA(20);
      for (let i = 0; i < N; i++) x.update(close[i]!, false);
      sink += x.getResultOrThrow();
    },
  },
  {
    // What taking theirs would mean: our contract (SMA seed, NaN before it) with their EMA doing the updates.
    name: 'EMA-wrapped',
    params: '20',
    note: "ours vs their EMA behind our contract's SMA seed",
    ours: () => {
      const x = new Ema(20);
      for (let i = 0; i < N; i++) x.update(close[i]!);
      sink += x.value;
    },
    theirs: () => {
      const x = new SeededTsEma(20);
      for (let i = 0; i < N; i++) x.update(close[i]!);
      sink += x.value;
    },
  },
  {
    name: 'RSI',
    params: '14',
    ours: () => {
      const x = new Rsi(14);
      for (let i = 0; i < N; i++) x.update(close[i]!);
      sink += x.value;
    },
    theirs: () => {
      const x = new RSI(14);
      for (let i = 0; i < N; i++) x.update(close[i]!, false);
      sink += x.getResultOrThrow();
    },
  },
  {
    name: 'Bollinger',
    params: '20, 2',
    ours: () => {
      const x = new BollingerBands(20, 2);
      for (let i = 0; i < N; i++) x.update(close[i]!);
      sink += x.upper;
    },
    theirs: () => {
      const x = new TsBollinger(20, 2);
      for (let i = 0; i < N; i++) x.update(close[i]!, false);
      sink += x.getResultOrThrow().upper;
    },
  },
  {
    name: 'MACD',
    params: '12, 26, 9',
    ours: () => {
      const x = new Macd(12, 26, 9);
      for (let i = 0; i < N; i++) x.update(close[i]!);
      sink += x.histogram;
    },
    theirs: () => {
      const x = new MACD(new EMA(12), new EMA(26), new EMA(9));
      for (let i = 0; i < N; i++) x.update(close[i]!, false);
      sink += x.getResultOrThrow().histogram;
    },
  },
  {
    name: 'ATR',
    params: '14',
    ours: () => {
      const x = new Atr(14);
      for (let i = 0; i < N; i++) x.update(high[i]!, low[i]!, close[i]!);
      sink += x.value;
    },
    theirs: () => {
      const x = new ATR(14);
      for (let i = 0; i < N; i++) x.update(candles[i]!, false);
      sink += x.getResultOrThrow();
    },
  },
  {
    name: 'NATR',
    params: '14',
    ours: () => {
      const x = new Natr(14);
      for (let i = 0; i < N; i++) x.update(high[i]!, low[i]!, close[i]!);
      sink += x.value;
    },
    theirs: () => {
      const x = new NATR(14);
      for (let i = 0; i < N; i++) x.update(candles[i]!, false);
      sink += x.getResultOrThrow();
    },
  },
  {
    name: 'Supertrend',
    params: '10, 3',
    note: "theirs uses TradingView's band rule, ours pandas-ta's",
    ours: () => {
      const x = new Supertrend(10, 3);
      for (let i = 0; i < N; i++) x.update(high[i]!, low[i]!, close[i]!);
      sink += x.value;
    },
    theirs: () => {
      const x = new SuperTrend({ interval: 10, multiplier: 3 });
      for (let i = 0; i < N; i++) x.update(candles[i]!, false);
      sink += x.getResultOrThrow().supertrend;
    },
  },
  {
    name: 'Stdev',
    params: '20',
    note: 'no standalone counterpart',
    ours: () => {
      const x = new Stdev(20);
      for (let i = 0; i < N; i++) x.update(close[i]!);
      sink += x.value;
    },
  },
];

const verdictOf = (rt: number): Row['verdict'] => (!Number.isFinite(rt) ? 'n/a' : rt >= PICK_MARGIN ? 'ours' : rt <= 1 / PICK_MARGIN ? 'trading-signals' : 'tie');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

function timeNs(run: Run): number {
  const t0 = performance.now();
  run();
  return ((performance.now() - t0) * 1e6) / N;
}

interface Row {
  name: string;
  params: string;
  oursNs: number;
  theirsNs: number;
  ratio: number;
  verdict: 'ours' | 'trading-signals' | 'tie' | 'n/a';
  note?: string;
}

const rows: Row[] = [];
const warnings: string[] = [];
const meter = cpuMeter();
for (const c of cases) {
  if (ONLY && !ONLY.has(c.name.toUpperCase())) continue;
  const m = cpuMeter();
  // One untimed round each so both sides are compiled before timing.
  c.ours();
  c.theirs?.();
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate who goes first so neither side always follows the other's garbage.
    if (r % 2 === 0) {
      ours.push(timeNs(c.ours));
      if (c.theirs) theirs.push(timeNs(c.theirs));
    } else {
      if (c.theirs) theirs.push(timeNs(c.theirs));
      ours.push(timeNs(c.ours));
    }
  }
  warnings.push(...cpuWarnings(c.name, m.stop(0)));
  const oursNs = median(ours);
  const theirsNs = c.theirs ? median(theirs) : NaN;
  const rt = ratio(theirsNs, oursNs);
  rows.push({ name: c.name, params: c.params, oursNs, theirsNs, ratio: rt, verdict: verdictOf(rt), ...(c.note ? { note: c.note } : {}) });
}
const total = meter.stop(0);

console.log(`${N} updates per run, median of ${ROUNDS} rounds, node ${process.version}; faster: one side takes >= ${PICK_MARGIN}x the other's time, else tie`);
printTable(
  ['indicator', 'params', 'ours ns/update', 'trading-signals ns/update', 'theirs / ours', 'faster', ''],
  rows.map((r) => [r.name, r.params, fmt(r.oursNs, 1), fmt(r.theirsNs, 1), Number.isFinite(r.ratio) ? `${fmt(r.ratio)}x` : 'n/a', r.verdict, r.note ?? '']),
);
for (const w of warnings) console.log(`warning: ${w}`);
console.log(
  `RESULT ${JSON.stringify({
    n: N,
    rounds: ROUNDS,
    node: process.version,
    rows: rows.map((r) => ({ ...r, oursNs: round(r.oursNs, 1), theirsNs: round(r.theirsNs, 1), ratio: round(r.ratio, 2) })),
    cpu: { wall_ms: round(total.wallMs, 0), this_process: round(total.server), other: round(total.other), steal: round(total.steal) },
    warnings,
    sink,
  })}`,
);
