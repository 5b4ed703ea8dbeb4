import { cmp, Decimal } from '../../decimal.js';
import type { TradingRules } from '../../exchange/types.js';
import { frac } from './barriers.js';
import { type GridExecutorConfig, gridLevelCount, MAX_GRID_LEVELS } from './configs.js';

/** One grid level: its limit price and the base amount its opening order asks for. */
export interface GridLevelPlan {
  price: Decimal;
  amount: Decimal;
}

/** The levels, or why none can be laid and the quote one level needs. */
export type GridPlan = { levels: GridLevelPlan[] } | { refusal: string; need: Decimal };

type SizingConfig = Pick<GridExecutorConfig, 'side' | 'start_price' | 'end_price' | 'total_amount_quote' | 'min_spread_between_orders' | 'min_order_amount_quote' | 'take_profit'>;

/** A rule as a positive decimal, or null when the market does not set it. */
function rule(v: string | null | undefined): Decimal | null {
  if (v === null || v === undefined) return null;
  const d = new Decimal(v);
  return d.gt(0) ? d : null;
}

/**
 * The grid's levels: evenly spaced from start_price to end_price, each given total_amount_quote / n
 * (at most MAX_GRID_LEVELS of them, whatever the config allows).
 *
 * Without the market's rules, n is what the config allows (gridLevelCount: spaced at least
 * min_spread_between_orders apart, each worth at least min_order_amount_quote) and each level's amount
 * is its quote at its price. With them, levels sit on distinct multiples of the price tick inside the
 * range, and n shrinks until every level's amount, floored to the amount step, is at least the
 * minimum order size (and one step) and worth at least the minimum notional at its own price, and at
 * its take profit's price for a short grid (which buys back lower); an amount above the maximum order
 * size is cut to it. A level the venue would refuse is never laid. When not even one level can be
 * funded the answer is a refusal that says what the market asks for.
 */
export function planGrid(c: SizingConfig, rules: TradingRules | null): GridPlan {
  const start = new Decimal(c.start_price);
  const end = new Decimal(c.end_price);
  const total = new Decimal(c.total_amount_quote);
  if (rules === null) return { levels: layUnsized(spaced(start, end, Math.min(gridLevelCount(c), MAX_GRID_LEVELS), null), total) };

  const step = rule(rules.min_base_amount_increment);
  const tick = rule(rules.min_price_increment);
  const minSize = Decimal.max(rule(rules.min_order_size) ?? 0, step ?? 0);
  const maxSize = rule(rules.max_order_size);
  const minNotional = rule(rules.min_notional_size) ?? new Decimal(0);
  // A short grid's take profit buys back at price × (1 − take_profit), which the venue floors to the
  // tick: its notional is the smaller one. A long grid's sells at or above the level.
  const exitFactor = Decimal.sub(1, frac(c.take_profit));
  const exitAt = (price: Decimal): Decimal => {
    if (c.side !== 'sell') return price;
    const exit = price.times(exitFactor).minus(tick ?? 0);
    return exit.gt(0) ? exit : price.times(exitFactor);
  };
  // No more levels than tick multiples in the range: each level on its own.
  let n = Math.min(gridLevelCount(c), MAX_GRID_LEVELS);
  if (tick !== null) n = ticksIn(start, end, tick, n);

  // The least base a level at `price` may ask for: the minimum size, and the minimum notional at its
  // price (and its exit's), rounded up to the step; divided rounding up, so it is never a hair short.
  const leastAt = (price: Decimal): Decimal => {
    const least = Decimal.max(minSize, divUp(minNotional, exitAt(price)));
    return step === null ? least : least.div(step).ceil().times(step);
  };
  for (;;) {
    const prices = spaced(start, end, n, tick);
    // The quote a level must be worth for the neediest level to clear the rules.
    let need = new Decimal(0);
    for (const p of prices) {
      const q = leastAt(p).times(p);
      if (cmp(q, need) > 0) need = q;
    }
    if (cmp(total.div(n), need) >= 0) return { levels: lay(prices, total, step, maxSize) };
    if (n === 1) {
      return {
        refusal:
          `total_amount_quote ${total} cannot fund one grid level: under the market's rules (minimum size ${rules.min_order_size ?? 'none'}, ` +
          `amount step ${rules.min_base_amount_increment ?? 'none'}, minimum notional ${rules.min_notional_size ?? 'none'}) a level needs ${need} quote.`,
        need,
      };
    }
    // Jump to what the budget funds at this need (near the answer: the need moves little with n), one level at least.
    n = Math.max(1, Math.min(n - 1, total.div(need).floor().toNumber()));
  }
}

/**
 * n prices from start to end, evenly spaced (one level: start). With a tick, they are n of the tick's
 * multiples inside [start, end], evenly spread (the prices the venue would take as they are, distinct
 * while n is at most how many multiples there are, which ticksIn gives); a range with none lays its one
 * level on the multiple nearest start.
 */
function spaced(start: Decimal, end: Decimal, n: number, tick: Decimal | null): Decimal[] {
  if (tick === null) {
    const gap = n > 1 ? end.minus(start).div(n - 1) : new Decimal(0);
    return Array.from({ length: n }, (_, i) => start.plus(gap.times(i)));
  }
  const first = start.div(tick).ceil();
  const last = end.div(tick).floor();
  if (first.gt(last)) return [Decimal.max(tick, start.div(tick).round().times(tick))];
  const span = last.minus(first);
  return Array.from({ length: n }, (_, i) => (n > 1 ? first.plus(span.times(i).div(n - 1).round()) : first).times(tick));
}

/** How many multiples of `tick` lie in [start, end] (one when none does: the level laid then), at most `cap`. */
function ticksIn(start: Decimal, end: Decimal, tick: Decimal, cap: number): number {
  const count = end.div(tick).floor().minus(start.div(tick).ceil()).plus(1);
  return count.lt(1) ? 1 : Math.min(cap, count.toNumber());
}

/** Divides rounding away from zero: a level's amount × its price is then never below its quote (a minimum notional it meets exactly stays met). */
const divUp = (a: Decimal, b: Decimal): Decimal => Decimal.quotient(a, b, Decimal.precision, Decimal.ROUND_UP);

/** Levels without rules: each its quote at its price. */
function layUnsized(prices: Decimal[], total: Decimal): GridLevelPlan[] {
  const quote = total.div(prices.length);
  return prices.map((price) => ({ price, amount: quote.div(price) }));
}

/** Levels under rules: each its quote at its price, floored to the step (with no step, rounded up), at most the maximum size. */
function lay(prices: Decimal[], total: Decimal, step: Decimal | null, maxSize: Decimal | null): GridLevelPlan[] {
  const quote = total.div(prices.length);
  const cap = maxSize === null ? null : step === null ? maxSize : maxSize.div(step).floor().times(step);
  return prices.map((price) => {
    const amount = step === null ? divUp(quote, price) : quote.div(price).div(step).floor().times(step);
    return { price, amount: cap !== null && cmp(amount, cap) > 0 ? cap : amount };
  });
}
