import { Decimal } from '../../decimal.js';
import { highEdge, lowEdge } from '../price-edge.js';
import type { CloseType, IdleBand, Quote, Side } from '../types.js';

/** Barrier fractions as configs give them (0.02 = 2%), read into Decimal through their shortest string. */
export interface BarrierSpec {
  stopLoss?: number | undefined;
  takeProfit?: number | undefined;
  trailing?: { activation_price: number; trailing_delta: number } | undefined;
}

export const frac = (n: number): Decimal => new Decimal(String(n));

/** The price a position is valued at: a long sells at the bid, a short buys back at the ask. */
export function markPrice(q: Quote, positionSide: Side): Decimal {
  return positionSide === 'buy' ? q.bid : q.ask;
}

/** Gross PnL of a position as a fraction of its entry: (price − entry) / entry, sign flipped for a short. */
export function pnlFraction(side: Side, entry: Decimal, price: Decimal): Decimal {
  const move = price.minus(entry).div(entry);
  return side === 'buy' ? move : move.neg();
}

/** The price at which a PnL fraction is reached: entry × (1 ± f). */
export function priceAtPnl(side: Side, entry: Decimal, f: Decimal): Decimal {
  return side === 'buy' ? entry.times(Decimal.add(1, f)) : entry.times(Decimal.sub(1, f));
}

/**
 * Which barrier the price crosses, if any. The checks run stop loss → trailing stop → take profit and
 * the first that fires wins, so when one price crosses several (a gap through the stop that also drops
 * below an armed trailing trigger) the stop loss is the close type. Within a candle the backtester feeds
 * the path point by point, so the point that crosses first decides, not this order.
 *
 * The trailing stop arms when PnL first reaches the activation fraction, with its trigger at PnL −
 * delta; afterwards a price is tested against the trigger before the trigger is raised, so the point
 * that makes a new peak can never also fire it. `trailing` is the current trigger (a PnL fraction) or
 * null while unarmed; the returned `trailing` is the new one.
 */
export function checkBarriers(
  spec: BarrierSpec,
  side: Side,
  entry: Decimal,
  price: Decimal,
  trailing: Decimal | null,
  takeProfitAtMarket: boolean,
): { hit: CloseType | null; trailing: Decimal | null } {
  const pnl = pnlFraction(side, entry, price);
  if (spec.stopLoss !== undefined && pnl.lte(frac(spec.stopLoss).neg())) return { hit: 'STOP_LOSS', trailing };
  if (spec.trailing) {
    const delta = frac(spec.trailing.trailing_delta);
    if (trailing === null) {
      if (pnl.gte(frac(spec.trailing.activation_price))) trailing = pnl.minus(delta);
    } else {
      if (pnl.lt(trailing)) return { hit: 'TRAILING_STOP', trailing };
      if (pnl.minus(delta).gt(trailing)) trailing = pnl.minus(delta);
    }
  }
  if (takeProfitAtMarket && spec.takeProfit !== undefined && pnl.gte(frac(spec.takeProfit))) return { hit: 'TAKE_PROFIT', trailing };
  return { hit: null, trailing };
}

/** Barrier prices for a report or a chart: where stop loss, take profit and the armed trailing trigger sit. */
export function barrierPrices(spec: BarrierSpec, side: Side, entry: Decimal | null, trailing: Decimal | null): Record<string, string | null> {
  if (!entry) return { stop_loss_price: null, take_profit_price: null, trailing_stop_price: null };
  return {
    stop_loss_price: spec.stopLoss === undefined ? null : priceAtPnl(side, entry, frac(spec.stopLoss).neg()).toString(),
    take_profit_price: spec.takeProfit === undefined ? null : priceAtPnl(side, entry, frac(spec.takeProfit)).toString(),
    trailing_stop_price: trailing === null ? null : priceAtPnl(side, entry, trailing).toString(),
  };
}

/** Relative distance by which a state-only edge of the band is pulled inside (float error is ~1e-16). */
const WAKE_MARGIN = 1e-12;

/**
 * Narrows `band` to the prices at which checkBarriers would do nothing: from the highest price that
 * would close (stop loss, armed trailing trigger, market take profit, on the side the position loses
 * or gains) to the lowest that would close, arm or raise the trailing stop. A closing edge is the exact
 * double at which the executor's own test changes (see price-edge); an arming or raising edge sits a
 * hair inside.
 */
export function barrierBand(spec: BarrierSpec, side: Side, entry: Decimal, trailing: Decimal | null, takeProfitAtMarket: boolean, band: IdleBand): void {
  // `gains`: the test holds when PnL is at or past f in the position's favour; `strict` for > / <.
  const onHigh = (gains: boolean) => gains === (side === 'buy');
  // Where the executor closes: the exact double at which its own test fires, so a backtest stopping at
  // the edge fills at the barrier price.
  const closeAt = (f: Decimal, gains: boolean, strict: boolean) => {
    const test = (p: Decimal) => {
      const pnl = pnlFraction(side, entry, p);
      return gains ? (strict ? pnl.gt(f) : pnl.gte(f)) : strict ? pnl.lt(f) : pnl.lte(f);
    };
    const near = priceAtPnl(side, entry, f);
    if (onHigh(gains)) band.high = Math.min(band.high, highEdge(near, test));
    else band.low = Math.max(band.low, lowEdge(near, test));
  };
  // Where it only moves state (arms or raises the trailing stop): a number a hair inside the band will
  // do, since waking early costs one tick and changes nothing; no Decimal division needed.
  const wakeAt = (f: number, gains: boolean) => {
    const price = entry.toNumber() * (side === 'buy' ? 1 + f : 1 - f);
    if (onHigh(gains)) band.high = Math.min(band.high, price * (1 - WAKE_MARGIN));
    else band.low = Math.max(band.low, price * (1 + WAKE_MARGIN));
  };
  if (spec.stopLoss !== undefined) closeAt(frac(spec.stopLoss).neg(), false, false);
  if (spec.trailing) {
    if (trailing === null) wakeAt(spec.trailing.activation_price, true);
    else {
      closeAt(trailing, false, true);
      wakeAt(trailing.toNumber() + spec.trailing.trailing_delta, true);
    }
  }
  if (takeProfitAtMarket && spec.takeProfit !== undefined) closeAt(frac(spec.takeProfit), true, false);
}
