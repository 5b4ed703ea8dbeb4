import { AppError } from '../../errors.js';
import { cmp, Decimal } from '../../decimal.js';
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

/** x <= 0, without building a decimal zero to compare with (NaN is neither). */
const notPositive = (x: Decimal) => x.isZero() || x.isNegative();

const places = new Map<string, number | null>();
/**
 * The decimal places of a step that is a power of ten at most 1 (0.01 → 2, 1 → 0), else null. Most
 * markets' steps and ticks are, and rounding to places is a fraction of the cost of dividing by the
 * step at 60 digits (which the other steps, 0.5 or 25, still need).
 */
function placesOf(step: string): number | null {
  let dp = places.get(step);
  if (dp === undefined) {
    const s = rule(step);
    dp = s.lte(1) && s.eq(new Decimal(10).pow(-s.decimalPlaces())) ? s.decimalPlaces() : null;
    places.set(step, dp);
  }
  return dp;
}

/** Rounds `value` to a multiple of `step` in the given direction (floor or ceil). */
function toStep(value: Decimal, step: string, rounding: typeof Decimal.ROUND_FLOOR | typeof Decimal.ROUND_CEIL): Decimal {
  const dp = placesOf(step);
  // Already on the step (a position that fills made, a price from a tick): nothing to round.
  if (dp !== null) return value.decimalPlaces() <= dp ? value : value.toDecimalPlaces(dp, rounding);
  const s = rule(step);
  const q = value.div(s);
  return (rounding === Decimal.ROUND_FLOOR ? q.floor() : q.ceil()).times(s);
}

/** Rounds down to a multiple of `step` (an order never grows by quantisation). */
export function floorTo(value: Decimal, step: string | null): Decimal {
  if (!step || notPositive(rule(step))) return value;
  return toStep(value, step, Decimal.ROUND_FLOOR);
}

/** Rounds a limit price to the tick, in the direction that never makes the order more aggressive. */
export function priceToTick(price: Decimal, tick: string | null, side: 'buy' | 'sell'): Decimal {
  if (!tick || notPositive(rule(tick))) return price;
  return toStep(price, tick, side === 'buy' ? Decimal.ROUND_FLOOR : Decimal.ROUND_CEIL);
}

/**
 * The order as it will be executed: amount down to the step, price to the tick. Never throws, so the
 * guards can fingerprint and bind an order by what the engine will do with it, not by how it was sent.
 */
export function quantize(market: Market, side: 'buy' | 'sell', amount: Decimal, price: Decimal | null): { amount: Decimal; price: Decimal | null } {
  return { amount: floorTo(amount, market.rules.min_base_amount_increment), price: price ? priceToTick(price, market.rules.min_price_increment, side) : null };
}

/** A market's rules as the checks read them: each limit parsed once per rules object (a backtest checks every order against the same one). */
interface ParsedRules {
  /** The rule strings these were parsed from: a rules object changed in place is parsed again. */
  from: [string | null | undefined, string | null | undefined, string | null | undefined];
  minSize: Decimal | null;
  maxSize: Decimal | null;
  minNotional: Decimal | null;
}
const parsedRules = new WeakMap<Market['rules'], ParsedRules>();
function parsedOf(r: Market['rules']): ParsedRules {
  let p = parsedRules.get(r);
  if (p === undefined || p.from[0] !== r.min_order_size || p.from[1] !== r.max_order_size || p.from[2] !== r.min_notional_size) {
    p = {
      from: [r.min_order_size, r.max_order_size, r.min_notional_size],
      minSize: r.min_order_size ? rule(r.min_order_size) : null,
      maxSize: r.max_order_size ? rule(r.max_order_size) : null,
      minNotional: r.min_notional_size ? rule(r.min_notional_size) : null,
    };
    parsedRules.set(r, p);
  }
  return p;
}

function ruleError(market: Market, field: string, message: string, details: Record<string, unknown>): AppError {
  return new AppError('VALIDATION_FAILED', `Invalid input: ${field}: ${message}`, {
    hint: `Read the trading rules of ${market.trading_pair} (GET /connectors/{connector_name}/trading-rules) and adjust the order.`,
    details: { issues: [{ path: field, message }], ...details },
  });
}

/**
 * Applies a market's rules to an order: amount down to the step, price to the tick, then the minimum
 * and maximum size and the minimum notional (valued at `refPrice` for market orders). The error names
 * the rule and its value so the caller can fix the order.
 */
export function applyRules(market: Market, side: 'buy' | 'sell', amount: Decimal, price: Decimal | null, refPrice: Decimal): { amount: Decimal; price: Decimal | null } {
  const q = applyRulesValued(market, side, amount, price, refPrice);
  return { amount: q.amount, price: q.price };
}

/** applyRules, with the notional it checked: the quantised amount × (the quantised price, or refPrice). */
export function applyRulesValued(market: Market, side: 'buy' | 'sell', amount: Decimal, price: Decimal | null, refPrice: Decimal): { amount: Decimal; price: Decimal | null; notional: Decimal } {
  const r = market.rules;
  const { amount: qAmount, price: qPrice } = quantize(market, side, amount, price);
  const p = parsedOf(r);
  if (qPrice !== null && notPositive(qPrice)) throw ruleError(market, 'price', `rounds to 0 at the tick ${r.min_price_increment}`, { min_price_increment: Number(r.min_price_increment) });
  if (notPositive(qAmount)) {
    // An amount computed by division can carry 60 digits: 16 say it (it rounds to nothing either way).
    throw ruleError(market, 'amount', `${amount.toSignificantDigits(16, Decimal.ROUND_DOWN)} rounds to 0 at the amount step ${r.min_base_amount_increment}`, { min_base_amount_increment: Number(r.min_base_amount_increment) });
  }
  if (p.minSize && cmp(qAmount, p.minSize) < 0) {
    throw ruleError(market, 'amount', `${qAmount} is below the minimum order size ${r.min_order_size} ${market.base}`, { min_order_size: Number(r.min_order_size), amount: Number(qAmount) });
  }
  if (p.maxSize && cmp(qAmount, p.maxSize) > 0) {
    throw ruleError(market, 'amount', `${qAmount} is above the maximum order size ${r.max_order_size} ${market.base}`, { max_order_size: Number(r.max_order_size), amount: Number(qAmount) });
  }
  const notional = qAmount.times(qPrice ?? refPrice);
  if (p.minNotional && cmp(notional, p.minNotional) < 0) {
    throw ruleError(market, 'amount', `the order is worth ${notional.toDecimalPlaces(8).toString()} ${market.quote}, below the minimum notional ${r.min_notional_size} ${market.quote}`, {
      min_notional_size: Number(r.min_notional_size),
      notional: Number(notional.toDecimalPlaces(8)),
    });
  }
  return { amount: qAmount, price: qPrice, notional };
}
