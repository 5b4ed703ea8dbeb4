import { Decimal } from './exact-decimal.js';

/**
 * The one Decimal used for money: exact, with the results of decimal.js at 60 significant digits and
 * half-even rounding (enough for any numeric(38,18) the database stores), and short values kept as
 * integers so that a backtest's hundred operations per executor stay cheap (see exact-decimal.ts).
 */
export { Decimal };

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
 * A number as a decimal from its shortest form (`new Decimal(n)`, the same value and form as
 * `new Decimal(String(n))`), the last one kept: a backtest's market view and venue both read the
 * current path price this way, so it is read once.
 */
export function decimalOfNumber(n: number): Decimal {
  if (n !== lastNumber || lastDecimal === null) {
    lastDecimal = new Decimal(n);
    lastNumber = n;
  }
  return lastDecimal;
}

/** a.cmp(b), kept as a function for the call sites that sort with it. */
export function cmp(a: Decimal, b: Decimal): number {
  return a.cmp(b);
}

/**
 * A decimal as the double that stands for it exactly, when there is one (Decimal.exactNumber), else the
 * decimal itself: what a value kept for long (a final report's barrier prices) costs least as.
 */
export function compactDecimal(d: Decimal | null): number | Decimal | null {
  if (d === null) return null;
  const n = d.exactNumber();
  return Number.isNaN(n) ? d : n;
}

/** The text of what compactDecimal kept: String() of such a double writes the decimal's own text. */
export function compactText(v: number | Decimal | null): string | null {
  return v === null ? null : typeof v === 'number' ? String(v) : v.toString();
}
