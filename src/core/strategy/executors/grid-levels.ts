import { cmp, Decimal } from '../../decimal.js';
import type { TradingRules } from '../../exchange/types.js';
import { type GridExecutorConfig, gridLevelCount } from './configs.js';

/** One grid level: its limit price and the base amount its opening order asks for. */
export interface GridLevelPlan {
  price: Decimal;
  amount: Decimal;
}

/** The levels, or why none can be laid and the quote one level needs. */
export type GridPlan = { levels: GridLevelPlan[] } | { refusal: string; need: Decimal };

type SizingConfig = Pick<GridExecutorConfig, 'start_price' | 'end_price' | 'total_amount_quote' | 'min_spread_between_orders' | 'min_order_amount_quote'>;

/** A rule as a positive decimal, or null when the market does not set it. */
function rule(v: string | null | undefined): Decimal | null {
  if (v === null || v === undefined) return null;
  const d = new Decimal(v);
  return d.gt(0) ? d : null;
}

/**
 * The grid's levels: evenly spaced from start_price to end_price, each worth total_amount_quote / n.
 *
 * Without the market's rules, n is what the config allows (gridLevelCount: spaced at least
 * min_spread_between_orders apart, each worth at least min_order_amount_quote) and each level's amount
 * is its quote at its price. With them, levels are also spaced at least one price tick apart, and n
 * shrinks until every level's amount, floored to the amount step, is at least the minimum order size
 * (and one step) and worth at least the minimum notional at its own price: a level the venue would
 * refuse is never laid. When not even one level can be funded the answer is a refusal that says what
 * the market asks for.
 */
export function planGrid(c: SizingConfig, rules: TradingRules | null): GridPlan {
  const start = new Decimal(c.start_price);
  const end = new Decimal(c.end_price);
  const total = new Decimal(c.total_amount_quote);
  if (rules === null) return { levels: layUnsized(spaced(start, end, gridLevelCount(c), null), total) };

  const step = rule(rules.min_base_amount_increment);
  const tick = rule(rules.min_price_increment);
  const minSize = Decimal.max(rule(rules.min_order_size) ?? 0, step ?? 0);
  const minNotional = rule(rules.min_notional_size) ?? new Decimal(0);
  // A tick is widest, as a fraction, at the lowest price.
  const spread = tick === null ? c.min_spread_between_orders : Decimal.max(c.min_spread_between_orders, tick.div(start)).toNumber();
  let n = gridLevelCount({ ...c, min_spread_between_orders: spread });

  // The least base a level at `price` may ask for: the minimum size, and the minimum notional at its price, rounded up to the step.
  const leastAt = (price: Decimal): Decimal => {
    const least = Decimal.max(minSize, minNotional.div(price));
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
    if (cmp(total.div(n), need) >= 0) return { levels: lay(prices, total, step) };
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
 * n prices from start to end, evenly spaced (one level: start), each on the nearest multiple of `tick`
 * when there is one (the price the venue would move it to; levels at least a tick apart stay apart).
 */
function spaced(start: Decimal, end: Decimal, n: number, tick: Decimal | null): Decimal[] {
  const gap = n > 1 ? end.minus(start).div(n - 1) : new Decimal(0);
  return Array.from({ length: n }, (_, i) => {
    const price = start.plus(gap.times(i));
    // A start below half a tick stays on the first tick, never at zero.
    return tick === null ? price : Decimal.max(tick, price.div(tick).round().times(tick));
  });
}

/** Divides rounding away from zero: a level's amount × its price is then never below its quote (a minimum notional it meets exactly stays met). */
const DecimalUp = Decimal.clone({ rounding: Decimal.ROUND_UP });

/** Levels without rules: each its quote at its price. */
function layUnsized(prices: Decimal[], total: Decimal): GridLevelPlan[] {
  const quote = total.div(prices.length);
  return prices.map((price) => ({ price, amount: quote.div(price) }));
}

/** Levels under rules: each its quote at its price, floored to the step (with no step, rounded up). */
function lay(prices: Decimal[], total: Decimal, step: Decimal | null): GridLevelPlan[] {
  const quote = total.div(prices.length);
  return prices.map((price) => ({ price, amount: step === null ? new Decimal(DecimalUp.div(quote, price)) : quote.div(price).div(step).floor().times(step) }));
}
