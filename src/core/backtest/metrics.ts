import { Decimal } from '../decimal.js';
import type { CloseType, ExecutorReport } from '../strategy/types.js';

/**
 * A backtest's summary figures. Formulas, units and annualisation are in docs/backtesting-metrics.md;
 * a ratio that is undefined on the data (no losing executor, no drawdown, fewer than two days) is
 * null, never 0 or 1. Money totals are decimal strings; ratios and the equity-based figures are numbers.
 */

export const DAY_MS = 86_400_000;
/** Crypto markets trade every day: a year is 365 daily returns. */
export const PERIODS_PER_YEAR = 365;

export interface EquitySeries {
  /** Candle close times, epoch ms, ascending. */
  time: ArrayLike<number>;
  /** Strategy PnL in quote at each close (marked to the close). */
  pnl: ArrayLike<number>;
  /** Net base position at each close. */
  position: ArrayLike<number>;
}

export interface MetricsInput {
  /** Quote value of the starting balances at the first price: the base of every percentage. */
  initialEquity: number;
  /** Exact net PnL in quote (from the ledger). */
  netPnl: Decimal;
  volume: Decimal;
  fees: Decimal;
  /** Every executor the run had: those still listed, and (trades) a tally the unlisted ones went into first. */
  executors: readonly ExecutorReport[];
  trades?: TradeTally;
  series: EquitySeries;
  /** Length of the backtested range, ms. */
  durationMs: number;
}

export interface BacktestMetrics {
  net_pnl_quote: string;
  net_pnl_pct: number | null;
  total_executors: number;
  total_positions: number;
  total_volume_quote: string;
  total_fees_quote: string;
  accuracy: number | null;
  accuracy_long: number | null;
  accuracy_short: number | null;
  win_rate: number | null;
  profit_factor: number | null;
  max_drawdown_quote: number;
  max_drawdown_pct: number | null;
  sharpe_ratio: number | null;
  sortino_ratio: number | null;
  calmar_ratio: number | null;
  exposure: number | null;
  close_types: Partial<Record<CloseType, number>>;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

export function computeMetrics(m: MetricsInput): BacktestMetrics {
  const e0 = m.initialEquity;
  const dd = maxDrawdown(e0, m.series.pnl);
  const days = dailyReturns(e0, m.series.time, m.series.pnl);
  const tally = m.trades ?? new TradeTally();
  for (const r of m.executors) tally.add(r);
  const trades = tally.stats();
  const n = m.series.pnl.length;
  const lastPnl = n > 0 ? m.series.pnl[n - 1]! : 0;
  return {
    net_pnl_quote: m.netPnl.toString(),
    net_pnl_pct: e0 > 0 ? m.netPnl.toNumber() / e0 : null,
    total_executors: tally.count,
    total_positions: trades.positions,
    total_volume_quote: m.volume.toString(),
    total_fees_quote: m.fees.toString(),
    accuracy: trades.accuracy,
    accuracy_long: trades.accuracyLong,
    accuracy_short: trades.accuracyShort,
    win_rate: trades.winRate,
    profit_factor: trades.profitFactor,
    max_drawdown_quote: dd.quote,
    max_drawdown_pct: dd.pct,
    sharpe_ratio: sharpe(days),
    sortino_ratio: sortino(days),
    calmar_ratio: calmar(e0, e0 + lastPnl, m.durationMs, dd.pct),
    exposure: exposure(m.series.position),
    close_types: trades.closeTypes,
  };
}

/** Largest fall of equity (initial equity + PnL) from its running peak, the start included. */
export function maxDrawdown(e0: number, pnl: ArrayLike<number>): { quote: number; pct: number | null } {
  // Tested before the loop, not after it: a worker enters this loop through code compiled in the middle
  // of an earlier call (on-stack replacement), and a test after the loop in that code deoptimized on every
  // call once it had seen one kind of number for e0 and met the other.
  const e0Positive = e0 > 0;
  let peak = e0;
  let quote = 0;
  let pct = 0;
  for (let i = 0; i < pnl.length; i++) {
    const e = e0 + pnl[i]!;
    if (e > peak) peak = e;
    if (peak - e > quote) quote = peak - e;
    if (peak > 0 && 1 - e / peak > pct) pct = 1 - e / peak;
  }
  return { quote, pct: e0Positive ? pct : null };
}

/**
 * Returns of the equity compounded into UTC days: the equity at each day's last close over the one
 * before (the first day over the initial equity). A day with no close (a gap, or a resolution coarser
 * than a day) keeps the equity it had: its return is 0, so a weekly series is annualised over the days
 * it spans, not as if each week were a day.
 */
export function dailyReturns(e0: number, time: ArrayLike<number>, pnl: ArrayLike<number>): number[] {
  const out: number[] = [];
  if (e0 <= 0 || pnl.length === 0) return out;
  const dayOf = (t: number) => Math.floor((t - 1) / DAY_MS);
  let prev = e0;
  let prevDay = dayOf(time[0]!) - 1;
  for (let i = 0; i < pnl.length; i++) {
    const day = dayOf(time[i]!);
    const lastOfDay = i === pnl.length - 1 || dayOf(time[i + 1]!) !== day;
    if (!lastOfDay) continue;
    for (let d = prevDay + 1; d < day; d++) out.push(0);
    const e = e0 + pnl[i]!;
    out.push(prev > 0 ? e / prev - 1 : 0);
    prev = e;
    prevDay = day;
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** mean / sample standard deviation (n − 1) of daily returns, × √365. */
export function sharpe(days: readonly number[]): number | null {
  if (days.length < 2) return null;
  const mu = mean(days);
  const variance = days.reduce((s, x) => s + (x - mu) ** 2, 0) / (days.length - 1);
  return variance > 0 ? (mu / Math.sqrt(variance)) * Math.sqrt(PERIODS_PER_YEAR) : null;
}

/** mean / downside deviation √(Σ min(r, 0)² / N) over all N days, × √365. */
export function sortino(days: readonly number[]): number | null {
  if (days.length < 2) return null;
  const downside = Math.sqrt(days.reduce((s, x) => s + Math.min(x, 0) ** 2, 0) / days.length);
  return downside > 0 ? (mean(days) / downside) * Math.sqrt(PERIODS_PER_YEAR) : null;
}

/** CAGR over the range (365-day years) / max drawdown (fraction). */
export function calmar(e0: number, eEnd: number, durationMs: number, mddPct: number | null): number | null {
  if (mddPct === null || mddPct <= 0 || durationMs <= 0 || e0 <= 0 || eEnd <= 0) return null;
  const cagr = (eEnd / e0) ** ((PERIODS_PER_YEAR * DAY_MS) / durationMs) - 1;
  return cagr / mddPct;
}

/** Share of candles that closed with a non-zero position. */
export function exposure(position: ArrayLike<number>): number | null {
  let held = 0;
  for (let i = 0; i < position.length; i++) if (position[i] !== 0) held++;
  return ratio(held, position.length);
}

export function tradeStats(executors: readonly ExecutorReport[]) {
  const tally = new TradeTally();
  for (const r of executors) tally.add(r);
  return tally.stats();
}

/**
 * The trade figures of executors seen one at a time: a long backtest hands over the executors it stops
 * listing as they end, so the metrics still count every executor it ran.
 */
export class TradeTally {
  count = 0;
  #positions = 0;
  #wins = 0;
  #decided = 0;
  readonly #side = { buy: { wins: 0, decided: 0 }, sell: { wins: 0, decided: 0 } };
  #gross = new Decimal(0);
  #loss = new Decimal(0);
  #losers = 0;
  readonly #closeTypes: Partial<Record<CloseType, number>> = {};

  add(r: ExecutorReport): void {
    this.count++;
    if (r.closeType) this.#closeTypes[r.closeType] = (this.#closeTypes[r.closeType] ?? 0) + 1;
    if (!r.volume.gt(0)) return;
    this.#positions++;
    const pnl = r.netPnl;
    if (pnl.isZero()) return;
    this.#decided++;
    const won = pnl.isPositive();
    if (won) {
      this.#wins++;
      this.#gross = this.#gross.plus(pnl);
    } else {
      this.#losers++;
      this.#loss = this.#loss.plus(pnl.abs());
    }
    if (r.side) {
      this.#side[r.side].decided++;
      if (won) this.#side[r.side].wins++;
    }
  }

  stats() {
    const side = this.#side;
    return {
      positions: this.#positions,
      accuracy: ratio(this.#wins, this.#decided),
      accuracyLong: ratio(side.buy.wins, side.buy.decided),
      accuracyShort: ratio(side.sell.wins, side.sell.decided),
      winRate: ratio(this.#wins, this.#positions),
      profitFactor: this.#losers === 0 ? null : this.#gross.div(this.#loss).toNumber(),
      closeTypes: Object.fromEntries(Object.entries(this.#closeTypes).sort(([a], [b]) => (a < b ? -1 : 1))) as Partial<Record<CloseType, number>>,
    };
  }
}
