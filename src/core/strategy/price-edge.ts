import { cmp, Decimal } from '../decimal.js';

/**
 * Turns an executor's decimal barrier into the number a runtime compares path prices with, exactly: a
 * price reaches the quote as the decimal of its shortest form (`new Decimal(price)`), so the edge is
 * found by asking the executor's own test at neighbouring doubles rather than by rounding the barrier
 * (a division at 60 digits can land either side of it).
 */

const f64 = new Float64Array(1);
// The double's bits as two 32-bit words (not one BigInt: a BigInt step allocates).
const u32 = new Uint32Array(f64.buffer);
const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

/** The next double above (dir 1) or below (dir -1) a finite x: its bits as an integer, one step. */
export function nextDouble(x: number, dir: 1 | -1): number {
  if (x === 0) return dir > 0 ? Number.MIN_VALUE : -Number.MIN_VALUE;
  f64[0] = x;
  if (x > 0 === dir > 0) {
    if (u32[LO] === 0xffffffff) {
      u32[LO] = 0;
      u32[HI] = u32[HI]! + 1;
    } else u32[LO] = u32[LO]! + 1;
  } else if (u32[LO] === 0) {
    u32[LO] = 0xffffffff;
    u32[HI] = u32[HI]! - 1;
  } else u32[LO] = u32[LO]! - 1;
  return f64[0]!;
}

/** A path price as the quote reads it (the decimal of its shortest form). */
const asQuote = (p: number) => new Decimal(p);

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

/**
 * cmp(asQuote(p), level), given `approx`, the level's own double (level.toNumber(), correctly rounded).
 * Rounding to a double never reverses an order, and the quote of p rounds back to p: where p and approx
 * differ, the quote and the level differ the same way. Only at approx itself is the decimal built.
 */
function cmpQuote(p: number, level: Decimal, approx: number): number {
  if (p !== approx) return p > approx ? 1 : -1;
  return cmp(asQuote(p), level);
}

/** Whether a path price reaches `level` from below: at or above it, or above it when `strict`. */
function above(p: number, level: Decimal, approx: number, strict: boolean): boolean {
  const c = cmpQuote(p, level, approx);
  return strict ? c > 0 : c >= 0;
}

/** Whether a path price reaches `level` from above: at or below it, or below it when `strict`. */
function below(p: number, level: Decimal, approx: number, strict: boolean): boolean {
  const c = cmpQuote(p, level, approx);
  return strict ? c < 0 : c <= 0;
}

/**
 * highEdge for the commonest test, a price at or above `level` (above it when `strict`), without a
 * closure per call: an executor's band asks for its edges each time a fill or its trailing stop moves them.
 */
export function edgeAbove(level: Decimal, strict: boolean): number {
  const approx = level.toNumber();
  let p = approx;
  for (let i = 0; i < 8 && !above(p, level, approx, strict); i++) p = nextDouble(p, 1);
  for (let i = 0; i < 8 && above(nextDouble(p, -1), level, approx, strict); i++) p = nextDouble(p, -1);
  return p;
}

/** lowEdge for a price at or below `level` (below it when `strict`). */
export function edgeBelow(level: Decimal, strict: boolean): number {
  const approx = level.toNumber();
  let p = approx;
  for (let i = 0; i < 8 && !below(p, level, approx, strict); i++) p = nextDouble(p, -1);
  for (let i = 0; i < 8 && below(nextDouble(p, 1), level, approx, strict); i++) p = nextDouble(p, 1);
  return p;
}
