import { Decimal } from '../decimal.js';

/**
 * Turns an executor's decimal barrier into the number a runtime compares path prices with, exactly: a
 * price reaches the quote as `new Decimal(String(price))`, so the edge is found by asking the executor's
 * own test at neighbouring doubles rather than by rounding the barrier (a division at 60 digits can
 * land either side of it).
 */

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);

/** The next double above (dir 1) or below (dir -1) a finite positive x. */
export function nextDouble(x: number, dir: 1 | -1): number {
  if (x === 0) return dir > 0 ? Number.MIN_VALUE : -Number.MIN_VALUE;
  f64[0] = x;
  i64[0] = i64[0]! + (x > 0 === dir > 0 ? 1n : -1n);
  return f64[0]!;
}

const asQuote = (p: number) => new Decimal(String(p));

/**
 * The highest double at which `fires` holds, for a test that holds at and below some price (a long's
 * stop loss, a short's take profit): a path price at or below the result fires, any above does not.
 */
export function lowEdge(near: Decimal, fires: (price: Decimal) => boolean): number {
  let p = near.toNumber();
  for (let i = 0; i < 8 && !fires(asQuote(p)); i++) p = nextDouble(p, -1);
  for (let i = 0; i < 8 && fires(asQuote(nextDouble(p, 1))); i++) p = nextDouble(p, 1);
  return p;
}

/** The lowest double at which `fires` holds, for a test that holds at and above some price. */
export function highEdge(near: Decimal, fires: (price: Decimal) => boolean): number {
  let p = near.toNumber();
  for (let i = 0; i < 8 && !fires(asQuote(p)); i++) p = nextDouble(p, 1);
  for (let i = 0; i < 8 && fires(asQuote(nextDouble(p, -1))); i++) p = nextDouble(p, -1);
  return p;
}
