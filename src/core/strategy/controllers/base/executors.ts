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

/**
 * The executor's triple barrier from a controller's barrier fields, frozen: a controller builds it once
 * and every executor it makes shares it (executors only read their config; a write would throw).
 */
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
  if (c.trailing_stop !== null) tb.trailing_stop = Object.freeze({ ...c.trailing_stop });
  return Object.freeze(tb);
}

/**
 * A base amount for a quote budget at a price, cut to 16 significant digits and rounded down so the
 * notional never exceeds the budget (the sink quantises it to the market's step afterwards).
 */
export function baseAmount(quoteAmount: Decimal, price: Decimal): string {
  // One correctly rounded division to 16 digits, not the 60-digit quotient cut again (which could
  // round twice).
  return Decimal.quotient(quoteAmount, price, 16, Decimal.ROUND_DOWN).toFixed();
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
