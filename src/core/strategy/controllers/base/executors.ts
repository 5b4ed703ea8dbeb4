import { Decimal } from '../../../decimal.js';
import type { TripleBarrier } from '../../executors/configs.js';
import type { ExecutorReport } from '../../types.js';

/** Still working (not yet terminated), as the original's `is_active`: counts toward per-side caps and levels. */
export function isActive(r: ExecutorReport): boolean {
  return r.status !== 'terminated';
}

/** Active and not already asked to stop: the executors a stop action may still target. */
export function isStoppable(r: ExecutorReport): boolean {
  return r.status === 'active' || r.status === 'not_started';
}

/** Has traded (the original's `is_trading`): an executor with fills is left to its barriers, not refreshed. */
export function hasFills(r: ExecutorReport): boolean {
  return !r.volume.isZero();
}

export interface BarrierConfig {
  stop_loss: number | null;
  take_profit: number | null;
  time_limit: number | null;
  take_profit_order_type: 'market' | 'limit' | 'limit_maker';
  trailing_stop: { activation_price: number; trailing_delta: number } | null;
}

/** The executor's triple barrier from a controller's barrier fields; a fresh object per executor. */
export function tripleBarrier(c: BarrierConfig, openOrderType: 'market' | 'limit' | 'limit_maker'): TripleBarrier {
  const tb: TripleBarrier = {
    open_order_type: openOrderType,
    take_profit_order_type: c.take_profit_order_type,
    stop_loss_order_type: 'market',
    time_limit_order_type: 'market',
  };
  if (c.stop_loss !== null) tb.stop_loss = c.stop_loss;
  if (c.take_profit !== null) tb.take_profit = c.take_profit;
  if (c.time_limit !== null) tb.time_limit = c.time_limit;
  if (c.trailing_stop !== null) tb.trailing_stop = { ...c.trailing_stop };
  return tb;
}

/**
 * A base amount for a quote budget at a price, cut to 16 significant digits and rounded down so the
 * notional never exceeds the budget (the sink quantises it to the market's step afterwards).
 */
export function baseAmount(quoteAmount: Decimal, price: Decimal): string {
  // The quotient cut (not rounded) to 20 digits has the same first 16 as the 60-digit quotient cut to
  // 16, unless rounding the 60th digit could carry into the 16th: only when digits 17 to 60 are all 9.
  // A 20-digit division is a fraction of a 60-digit one (and of its garbage); the rare quotient whose
  // digits 17 to 20 are 9999 takes the full division.
  const short = Short.div(quoteAmount, price);
  if (!carryPossible(short)) return short.toSignificantDigits(16, Decimal.ROUND_DOWN).toFixed();
  return quoteAmount.div(price).toSignificantDigits(16, Decimal.ROUND_DOWN).toFixed();
}

/** Division cut to 20 significant digits, for baseAmount. */
const Short = Decimal.clone({ precision: 20, rounding: Decimal.ROUND_DOWN });

/** Whether a 20-digit quotient has 20 digits, the last four 9: rounding further digits up could carry into the 16th. */
function carryPossible(q: InstanceType<typeof Short>): boolean {
  if (!q.isFinite() || q.isZero()) return true;
  // The significant digits: the mantissa of the exponential form, without sign and point.
  const m = q.toExponential();
  const digits = m.slice(q.isNegative() ? 1 : 0, m.indexOf('e')).replace('.', '');
  return digits.length >= 20 && digits.endsWith('9999');
}

/** A computed price cut to 16 significant digits (the sink quantises it to the tick afterwards). */
export function roundPrice(price: Decimal): Decimal {
  return price.toSignificantDigits(16, Decimal.ROUND_HALF_EVEN);
}


/**
 * Where a controller's look at all its executors may start, for a controller that still counts some
 * ended ones (a market-making level cools down after a stop loss; `activeExecutors` lists only working
 * ones). The runtime lists executors in creation order and keeps the ended ones, so a long run's list
 * grows without bound; an executor that has settled (ended, and past anything the controller still
 * counts it for) never matters again, so each step skips the settled prefix instead of rescanning
 * every executor that ever ran. A list that was rebuilt
 * (shorter, or another executor where the prefix ended) is scanned from the start again.
 */
export class SettledPrefix {
  private start = 0;
  private lastSettledId: string | null = null;

  /** Index of the first executor not yet settled; `settled` must stay true for an executor once it is. */
  length(list: readonly ExecutorReport[], settled: (r: ExecutorReport) => boolean): number {
    let i = this.start;
    if (i > list.length || (i > 0 && (list[i - 1] as ExecutorReport).id !== this.lastSettledId)) i = 0;
    while (i < list.length && settled(list[i] as ExecutorReport)) i++;
    this.start = i;
    this.lastSettledId = i > 0 ? (list[i - 1] as ExecutorReport).id : null;
    return i;
  }
}
