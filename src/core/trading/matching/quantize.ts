import { AppError } from '../../errors.js';
import { Decimal } from '../../decimal.js';
import type { Market } from '../../exchange/types.js';

const parsed = new Map<string, Decimal>();
/** A rule value as a Decimal, parsed once: markets have a handful, and a backtest quantises every order. */
function rule(value: string): Decimal {
  let d = parsed.get(value);
  if (d === undefined) {
    d = new Decimal(value);
    parsed.set(value, d);
  }
  return d;
}

/** Rounds down to a multiple of `step` (an order never grows by quantisation). */
export function floorTo(value: Decimal, step: string | null): Decimal {
  if (!step || rule(step).lte(0)) return value;
  const s = rule(step);
  return value.div(s).floor().times(s);
}

/** Rounds a limit price to the tick, in the direction that never makes the order more aggressive. */
export function priceToTick(price: Decimal, tick: string | null, side: 'buy' | 'sell'): Decimal {
  if (!tick || rule(tick).lte(0)) return price;
  const t = rule(tick);
  const q = price.div(t);
  return (side === 'buy' ? q.floor() : q.ceil()).times(t);
}

/**
 * The order as it will be executed: amount down to the step, price to the tick. Never throws, so the
 * guards can fingerprint and bind an order by what the engine will do with it, not by how it was sent.
 */
export function quantize(market: Market, side: 'buy' | 'sell', amount: Decimal, price: Decimal | null): { amount: Decimal; price: Decimal | null } {
  return { amount: floorTo(amount, market.rules.min_base_amount_increment), price: price ? priceToTick(price, market.rules.min_price_increment, side) : null };
}

/**
 * Applies a market's rules to an order: amount down to the step, price to the tick, then the minimum
 * and maximum size and the minimum notional (valued at `refPrice` for market orders). The error names
 * the rule and its value so the caller can fix the order.
 */
export function applyRules(market: Market, side: 'buy' | 'sell', amount: Decimal, price: Decimal | null, refPrice: Decimal): { amount: Decimal; price: Decimal | null } {
  const r = market.rules;
  const { amount: qAmount, price: qPrice } = quantize(market, side, amount, price);
  const fail = (field: string, message: string, details: Record<string, unknown>) =>
    new AppError('VALIDATION_FAILED', `Invalid input: ${field}: ${message}`, {
      hint: `Read the rules with connectors_get_trading_rules for ${market.trading_pair} and adjust the order.`,
      details: { issues: [{ path: field, message }], ...details },
    });
  if (qPrice !== null && qPrice.lte(0)) throw fail('price', `rounds to 0 at the tick ${r.min_price_increment}`, { min_price_increment: Number(r.min_price_increment) });
  if (qAmount.lte(0)) {
    throw fail('amount', `${amount} rounds to 0 at the amount step ${r.min_base_amount_increment}`, { min_base_amount_increment: Number(r.min_base_amount_increment) });
  }
  if (r.min_order_size && qAmount.lt(rule(r.min_order_size))) {
    throw fail('amount', `${qAmount} is below the minimum order size ${r.min_order_size} ${market.base}`, { min_order_size: Number(r.min_order_size), amount: Number(qAmount) });
  }
  if (r.max_order_size && qAmount.gt(rule(r.max_order_size))) {
    throw fail('amount', `${qAmount} is above the maximum order size ${r.max_order_size} ${market.base}`, { max_order_size: Number(r.max_order_size), amount: Number(qAmount) });
  }
  const notional = qAmount.times(qPrice ?? refPrice);
  if (r.min_notional_size && notional.lt(rule(r.min_notional_size))) {
    throw fail('amount', `the order is worth ${notional.toDecimalPlaces(8).toString()} ${market.quote}, below the minimum notional ${r.min_notional_size} ${market.quote}`, {
      min_notional_size: Number(r.min_notional_size),
      notional: Number(notional.toDecimalPlaces(8)),
    });
  }
  return { amount: qAmount, price: qPrice };
}
