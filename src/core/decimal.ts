import { Decimal as BaseDecimal } from 'decimal.js';

/**
 * The one Decimal used for money. decimal.js defaults to 20 significant digits, which would round a
 * numeric(38,18) balance; 60 digits holds any value the database can store, exactly.
 */
export const Decimal = BaseDecimal.clone({ precision: 60, rounding: BaseDecimal.ROUND_HALF_EVEN, toExpNeg: -60, toExpPos: 60 });
export type Decimal = InstanceType<typeof Decimal>;

/** Largest magnitude a numeric(38,18) column holds. */
export const MAX_AMOUNT = new Decimal('1e20');

/**
 * The mid of a bid and an ask, in decimal: each price is taken at its shortest decimal form (what the
 * exchange sent), so the mid has at most one more digit than the prices and no float noise
 * (57953.615, never 57953.615000000005).
 */
export function midPrice(bid: number, ask: number): Decimal {
  return new Decimal(String(bid)).plus(String(ask)).div(2);
}

let lastNumber = Number.NaN;
let lastDecimal: Decimal | null = null;
/**
 * A number as a decimal from its shortest form (`new Decimal(String(n))`), the last one kept: a
 * backtest's market view and venue both read the current path price this way, so it is parsed once.
 */
export function decimalOfNumber(n: number): Decimal {
  if (n !== lastNumber || lastDecimal === null) {
    lastDecimal = new Decimal(String(n));
    lastNumber = n;
  }
  return lastDecimal;
}

/**
 * a.cmp(b) without the copy of `b` that cmp makes first (a backtest compares thousands of times per
 * executor, and each copy is an object and an array for the collector). Finite values only take the
 * short way; NaN and ±Infinity go through cmp itself.
 */
export function cmp(a: Decimal, b: Decimal): number {
  const ad = a.d;
  const bd = b.d;
  if (!ad || !bd || b.e > Decimal.maxE || b.e < Decimal.minE) return a.cmp(b);
  const as = a.s;
  const bs = b.s;
  // Either zero?
  if (!ad[0] || !bd[0]) return ad[0] ? as : bd[0] ? -bs : 0;
  if (as !== bs) return as;
  if (a.e !== b.e) return (a.e > b.e) !== as < 0 ? 1 : -1;
  const al = ad.length;
  const bl = bd.length;
  for (let i = 0, j = al < bl ? al : bl; i < j; ++i) {
    if (ad[i] !== bd[i]) return (ad[i]! > bd[i]!) !== as < 0 ? 1 : -1;
  }
  return al === bl ? 0 : (al > bl) !== as < 0 ? 1 : -1;
}
