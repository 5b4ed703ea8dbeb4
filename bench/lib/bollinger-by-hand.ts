/**
 * bollinger_v1 written straight, with no controller, executor, runtime or venue: one loop over the
 * candles that keeps its positions in an array and books its fills itself, and produces what the
 * engine's result holds (every fill and executor, exact decimal money, the per-candle PnL and position,
 * the metrics). It is the baseline of bench/backtest.bench.ts and, since it shares none of the
 * engine's strategy code, the reference test/unit/backtest/bollinger-by-hand.test.ts holds the engine
 * to: same executors, close types, volume, fees and net PnL, to the digit.
 *
 * The rules it writes out are the engine's, as docs/backtesting.md states them: each candle is the
 * path O-L-H-C (up) or O-H-L-C (down) at t, t+⅓, t+⅔ and t+1 interval; between two points the price
 * stops at every level a position acts on (its stop loss, its armed trailing trigger, its resting take
 * profit), so a barrier fills at its own price; at each stop a resting take profit fills first (maker,
 * at its limit), then each position in creation order checks stop loss → trailing stop (arm, fire,
 * raise) → time limit, closing at market (taker) at the stop. %B is read at each candle close; a signal
 * opens a position at the next point, at market, for total/max_per_side quote (16 significant digits,
 * floored to the amount step) when that side has fewer than max_per_side open and the newest of them
 * is older than the cooldown.
 *
 * Levels are compared as doubles: a level's edge (price-edge.ts) is the last double at which the
 * engine's exact test fires, so `price <= edge` is that test. Decimals are made only when money moves.
 */
import type { CandleColumns } from '../../src/core/backtest/candle-loader.js';
import { type BacktestMetrics, computeMetrics } from '../../src/core/backtest/metrics.js';
import { Decimal, decimalOfNumber } from '../../src/core/decimal.js';
import { RunningSum } from '../../src/core/running-sum.js';
import { edgeAbove, edgeBelow } from '../../src/core/strategy/price-edge.js';
import type { ExecutorReport } from '../../src/core/strategy/types.js';
import { feeOn } from '../../src/core/trading/matching/fees.js';

export interface HandParams {
  bbLength: number;
  bbStd: number;
  totalQuote: string;
  maxPerSide: number;
  cooldownMs: number;
  stopLoss: string;
  takeProfit: string;
  timeLimitMs: number;
  activation: string;
  trailingDelta: string;
  tradeCost: string;
  initialBase: string;
  initialQuote: string;
  /** Decimal places of the market's amount step and price tick. */
  amountPlaces: number;
  pricePlaces: number;
}

/** bollinger_v1's defaults (1m candles) on the sim BTC-USDT market. */
export const BOLLINGER_DEFAULTS: HandParams = {
  bbLength: 100,
  bbStd: 2,
  totalQuote: '1000',
  maxPerSide: 2,
  cooldownMs: 300_000,
  stopLoss: '0.03',
  takeProfit: '0.02',
  timeLimitMs: 2_700_000,
  activation: '0.015',
  trailingDelta: '0.003',
  tradeCost: '0.0002',
  initialBase: '1',
  initialQuote: '100000',
  amountPlaces: 5,
  pricePlaces: 2,
};

interface Position {
  long: boolean;
  created: number;
  deadline: number;
  amount: Decimal;
  inNotional: Decimal;
  inFee: Decimal;
  /** Last double at which the stop loss fires (a long: at or below it; a short: at or above). */
  stopEdge: number;
  /** First double that arms the trailing stop. */
  armEdge: number;
  /** entry × trailing delta: how far behind its peak the trailing stop sits. */
  gap: Decimal;
  peak: number;
  /** Last double at which the armed trailing stop fires; NaN while unarmed. */
  fireEdge: number;
  takeProfit: Decimal;
  takeProfitNum: number;
  resting: boolean;
  closed: boolean;
}

export interface HandFill {
  time: number;
  buy: boolean;
  price: Decimal;
  amount: Decimal;
  fee: Decimal;
  maker: boolean;
}

export interface HandExecutor {
  side: 'buy' | 'sell';
  createdAt: number;
  closedAt: number | null;
  closeType: string | null;
  volume: Decimal;
  netPnl: Decimal;
}

export interface HandResult {
  fills: HandFill[];
  executors: HandExecutor[];
  metrics: BacktestMetrics;
}

/** The candle's four path prices into `path`: O-L-H-C for an up candle (close ≥ open), O-H-L-C for a down one. */
export function pathOf(cols: CandleColumns, i: number, path: Float64Array | number[]): void {
  const up = cols.close[i]! >= cols.open[i]!;
  path[0] = cols.open[i]!;
  path[1] = up ? cols.low[i]! : cols.high[i]!;
  path[2] = up ? cols.high[i]! : cols.low[i]!;
  path[3] = cols.close[i]!;
}

/** The per-candle series, kept from run to run as the engine keeps its own (fresh memory costs more to touch than to fill). */
let seriesStore = { time: new Float64Array(0), pnl: new Float64Array(0), position: new Float64Array(0) };

/** Runs candles [first, last) of `cols` (the bbLength before `first` warm the bands up). */
export function bollingerByHand(cols: CandleColumns, first: number, last: number, p: HandParams = BOLLINGER_DEFAULTS): HandResult {
  const { time, open, close } = cols;
  const interval = time[first + 1]! - time[first]!;
  const rate = new Decimal(p.tradeCost);
  const one = new Decimal(1);
  const factors = (f: string) => [one.plus(f), one.minus(f)] as const;
  const [tpLong, tpShort] = factors(p.takeProfit);
  const [slShort, slLong] = factors(p.stopLoss);
  const [armLong, armShort] = factors(p.activation);
  const delta = new Decimal(p.trailingDelta);
  const perPosition = new Decimal(p.totalQuote).div(p.maxPerSide);

  const fills: HandFill[] = [];
  const executors: HandExecutor[] = [];
  const positions: Position[] = [];
  let anyClosed = false;
  let pending: { long: boolean; created: number; amount: Decimal } | null = null;
  // Sums of many small decimals: RunningSum keeps them short until they outgrow a double's integers.
  const quoteMoved = new RunningSum();
  const baseMoved = new RunningSum();
  const volume = new RunningSum();
  const fees = new RunningSum();

  const book = (now: number, buy: boolean, price: Decimal, amount: Decimal, notional: Decimal, maker: boolean): Decimal => {
    const fee = feeOn(notional, rate);
    if (buy) {
      baseMoved.add(amount);
      quoteMoved.subtract(notional.plus(fee));
    } else {
      baseMoved.subtract(amount);
      quoteMoved.add(notional.minus(fee));
    }
    volume.add(notional);
    fees.add(fee);
    fills.push({ time: now, buy, price, amount, fee, maker });
    return fee;
  };
  const close_ = (x: Position, now: number, price: Decimal, type: string) => {
    const notional = x.amount.times(price);
    const fee = book(now, !x.long, price, x.amount, notional, type === 'TAKE_PROFIT');
    const gross = x.long ? notional.minus(x.inNotional) : x.inNotional.minus(notional);
    executors.push({ side: x.long ? 'buy' : 'sell', createdAt: x.created, closedAt: now, closeType: type, volume: x.inNotional.plus(notional), netPnl: gross.minus(x.inFee).minus(fee) });
    x.closed = true;
    anyClosed = true;
  };
  const arm = (x: Position, price: number) => {
    x.peak = price;
    const peak = decimalOfNumber(price);
    x.fireEdge = x.long ? edgeBelow(peak.minus(x.gap), true) : edgeAbove(peak.plus(x.gap), true);
  };
  const openPending = (now: number, at: number) => {
    const { long, created, amount } = pending!;
    pending = null;
    const price = decimalOfNumber(at);
    const inNotional = amount.times(price);
    const inFee = book(now, long, price, amount, inNotional, false);
    // The take profit rests at the tick on the far side (a sell's price rounds up, a buy's down).
    const tp = price.times(long ? tpLong : tpShort);
    const takeProfit = tp.decimalPlaces() <= p.pricePlaces ? tp : tp.toDecimalPlaces(p.pricePlaces, long ? Decimal.ROUND_CEIL : Decimal.ROUND_FLOOR);
    positions.push({
      long,
      created,
      deadline: created + p.timeLimitMs,
      amount,
      inNotional,
      inFee,
      stopEdge: long ? edgeBelow(price.times(slLong), false) : edgeAbove(price.times(slShort), false),
      armEdge: long ? edgeAbove(price.times(armLong), false) : edgeBelow(price.times(armShort), false),
      gap: price.times(delta),
      peak: Number.NaN,
      fireEdge: Number.NaN,
      takeProfit,
      takeProfitNum: takeProfit.toNumber(),
      resting: true,
      closed: false,
    });
  };
  /** One stop of the path at `price`. */
  const stop = (now: number, price: number) => {
    if (pending) return openPending(now, price);
    for (const x of positions) {
      if (x.resting && (x.long ? price >= x.takeProfitNum : price <= x.takeProfitNum)) {
        x.resting = false;
        close_(x, now, x.takeProfit, 'TAKE_PROFIT');
      }
    }
    for (const x of positions) {
      if (x.closed) continue;
      const long = x.long;
      if (long ? price <= x.stopEdge : price >= x.stopEdge) {
        close_(x, now, decimalOfNumber(price), 'STOP_LOSS');
        continue;
      }
      if (Number.isNaN(x.fireEdge)) {
        if (long ? price >= x.armEdge : price <= x.armEdge) arm(x, price);
      } else if (long ? price <= x.fireEdge : price >= x.fireEdge) {
        close_(x, now, decimalOfNumber(price), 'TRAILING_STOP');
        continue;
      } else if (long ? price > x.peak : price < x.peak) arm(x, price);
      if (now >= x.deadline) close_(x, now, decimalOfNumber(price), 'TIME_LIMIT');
    }
    if (anyClosed) {
      let w = 0;
      for (const x of positions) if (!x.closed) positions[w++] = x;
      positions.length = w;
      anyClosed = false;
    }
  };
  const nearer = (down: boolean, from: number, to: number, best: number, level: number): number =>
    (down ? level < from && level > to && !(best >= level) : level > from && level < to && !(best <= level)) ? level : best;
  /** The nearest level strictly between `from` and `to` that some position acts on, or NaN. */
  const nextLevel = (from: number, to: number): number => {
    let best = Number.NaN;
    const down = to < from;
    for (const x of positions) {
      if (down === x.long) {
        best = nearer(down, from, to, best, x.stopEdge);
        if (!Number.isNaN(x.fireEdge)) best = nearer(down, from, to, best, x.fireEdge);
      } else if (x.resting) best = nearer(down, from, to, best, x.takeProfitNum);
    }
    return best;
  };

  // %B of the last bbLength closes (population deviation) from running sums.
  const n = p.bbLength;
  const ring = new Float64Array(n);
  let sum = 0;
  let sumSq = 0;
  let seen = 0;
  const push = (x: number) => {
    const slot = seen % n;
    if (seen >= n) {
      sum -= ring[slot]!;
      sumSq -= ring[slot]! * ring[slot]!;
    }
    ring[slot] = x;
    sum += x;
    sumSq += x * x;
    seen++;
  };
  for (let i = Math.max(0, first - n); i < first; i++) push(close[i]!);

  /** At a candle close (`c`, already in the bands) at time `now`: a signal opens a position at the next stop. */
  const decide = (now: number, c: number) => {
    if (seen < n) return;
    const mean = sum / n;
    const sd = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
    const pb = (c - (mean - p.bbStd * sd)) / (2 * p.bbStd * sd);
    const signal = pb < 0 ? 1 : pb > 1 ? -1 : 0;
    if (signal === 0) return;
    const long = signal > 0;
    let open_ = 0;
    let newest = -Infinity;
    for (const x of positions) {
      if (x.long !== long) continue;
      open_++;
      if (x.created > newest) newest = x.created;
    }
    if (open_ < p.maxPerSide && now - newest > p.cooldownMs) {
      const amount = Decimal.quotient(perPosition, decimalOfNumber(c), 16, Decimal.ROUND_DOWN);
      pending = { long, created: now, amount: amount.decimalPlaces() <= p.amountPlaces ? amount : amount.toDecimalPlaces(p.amountPlaces, Decimal.ROUND_FLOOR) };
    }
  };

  const count = last - first;
  if (seriesStore.time.length < count) seriesStore = { time: new Float64Array(count), pnl: new Float64Array(count), position: new Float64Array(count) };
  const series = { time: seriesStore.time.subarray(0, count), pnl: seriesStore.pnl.subarray(0, count), position: seriesStore.position.subarray(0, count) };
  const path = new Float64Array(4);
  const at = new Float64Array(4);
  for (let i = first; i < last; i++) {
    const t = time[i]!;
    pathOf(cols, i, path);
    at[0] = t;
    at[1] = t + Math.floor(interval / 3);
    at[2] = t + Math.floor((2 * interval) / 3);
    at[3] = t + interval;
    for (let k = 0; k < 4; k++) {
      if (k > 0 && positions.length > 0) {
        let from = path[k - 1]!;
        for (let e = 0; e < 8; e++) {
          const level = nextLevel(from, path[k]!);
          if (!(Math.abs(level - from) > from * 1e-9)) break;
          stop(at[k - 1]!, level);
          from = level;
        }
      }
      stop(at[k]!, path[k]!);
      // The first point is the first moment the strategy runs: it decides on the warm-up's last close.
      if (i === first && k === 0 && first > 0) decide(t, close[first - 1]!);
    }
    const j = i - first;
    series.time[j] = t + interval;
    series.pnl[j] = quoteMoved.number + baseMoved.number * close[i]!;
    series.position[j] = baseMoved.number;

    push(close[i]!);
    decide(t + interval, close[i]!);
  }

  // Still open at the end: marked at the last close, less the fee paid to open.
  const lastClose = decimalOfNumber(close[last - 1]!);
  for (const x of positions) {
    const value = x.amount.times(lastClose);
    const gross = x.long ? value.minus(x.inNotional) : x.inNotional.minus(value);
    executors.push({ side: x.long ? 'buy' : 'sell', createdAt: x.created, closedAt: null, closeType: null, volume: x.inNotional, netPnl: gross.minus(x.inFee) });
  }
  const base0 = new Decimal(p.initialBase);
  const quote0 = new Decimal(p.initialQuote);
  const metrics = computeMetrics({
    initialEquity: quote0.plus(base0.times(String(open[first]!))).toNumber(),
    netPnl: quoteMoved.value.plus(baseMoved.value.times(lastClose)),
    volume: volume.value,
    fees: fees.value,
    executors: executors as unknown as ExecutorReport[],
    series,
    durationMs: time[last - 1]! + interval - time[first]!,
  });
  return { fills, executors, metrics };
}
