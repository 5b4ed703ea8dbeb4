import { Decimal as Base } from 'decimal.js';

/**
 * The exact decimal behind `Decimal` (src/core/decimal.ts): the results of decimal.js configured for
 * money (60 significant digits, half-even), at a fraction of its cost.
 *
 * Why: a backtest does about a hundred decimal operations per executor, and decimal.js keeps every
 * value as an array of base-1e7 words, so each plus or times allocates and loops. A value is held here
 * in one of three forms, value = coefficient / 10^x:
 * - short: a coefficient `c` that is a safe integer (below 2^53) and at most 22 places. Prices, amounts
 *   and fees are nearly all short, and sums, products, comparisons and roundings of short values are
 *   exact in double arithmetic while every intermediate stays a safe integer, which each operation
 *   checks;
 * - wide: a BigInt coefficient `w` of at most 60 digits and at most 50 places, for what outgrows
 *   2^53 (a balance to 18 places, a running sum of fees). Sums and products are exact in BigInt, and
 *   a result of at most 60 digits is what decimal.js gives too;
 * - big: a decimal.js value `b`, for everything else (a quotient that does not end, more than 60
 *   digits, NaN, ±Infinity, sqrt, ln). A result that fits comes back to the short form.
 * Every result equals decimal.js's to the digit and the sign of zero, which test/unit/exact-decimal.test.ts
 * checks operation by operation against decimal.js on generated values.
 */

const Big = Base.clone({ precision: 60, rounding: Base.ROUND_HALF_EVEN, toExpNeg: -60, toExpPos: 60 });
type Big = InstanceType<typeof Big>;

/** Most decimal places the short form holds. */
const MAX_PLACES = 22;
/** Most decimal places the wide form holds (well inside decimal.js's plain notation, 60 places). */
const MAX_WIDE_PLACES = 50;
const SAFE = Number.MAX_SAFE_INTEGER;
const SAFE_N = BigInt(SAFE);
/** A wide coefficient stays below 10^60: at most 60 digits, decimal.js's precision, so never rounded. */
const WIDE_LIMIT = 10n ** 60n;
/** 10^0 … 10^22, every one exact in a double. */
const POW10: number[] = Array.from({ length: MAX_PLACES + 1 }, (_, i) => Number(`1e${i}`));
/** 10^0 … 10^120 as BigInt (places of a product of two wide values reach 100). */
const POW10N: bigint[] = Array.from({ length: 121 }, (_, i) => 10n ** BigInt(i));
const PLAIN = /^-?\d+(?:\.\d+)?$/;

const SHORT = 0;
const WIDE = 1;
const BIG = 2;
/** The constructor's tag for a value given by its parts (no parsing). */
const RAW: unique symbol = Symbol('raw');

export type DecimalValue = string | number | Decimal;
export type Rounding = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export class Decimal {
  static readonly ROUND_UP = 0;
  static readonly ROUND_DOWN = 1;
  static readonly ROUND_CEIL = 2;
  static readonly ROUND_FLOOR = 3;
  static readonly ROUND_HALF_UP = 4;
  static readonly ROUND_HALF_DOWN = 5;
  static readonly ROUND_HALF_EVEN = 6;
  static readonly ROUND_HALF_CEIL = 7;
  static readonly ROUND_HALF_FLOOR = 8;
  static readonly precision = 60;
  static readonly rounding: Rounding = 6;

  // Declared, not defined: every value gets its fields in one order in the constructor, so all of them
  // share one hidden class and the hot call sites stay monomorphic.
  /** SHORT, WIDE or BIG. */
  private declare k: number;
  /** The short coefficient (NaN in the other forms). */
  private declare c: number;
  /** Decimal places of a short or wide value, trailing zeros dropped (1.50 is c 15, x 1). */
  private declare x: number;
  /** The wide coefficient. */
  private declare w: bigint | undefined;
  /** The decimal.js value of a BIG one. */
  private declare b: Big | undefined;

  /**
   * A decimal from a string, a number (taken at its shortest form, as decimal.js does) or a decimal.
   * Bad input throws decimal.js's own `[DecimalError] Invalid argument` error. (The RAW form, a value
   * by its parts, is this module's own.)
   */
  constructor(v: DecimalValue | typeof RAW, k?: number, c?: number, x?: number, w?: bigint, b?: Big) {
    if (v === RAW) {
      this.k = k!;
      this.c = c!;
      this.x = x!;
      this.w = w;
      this.b = b;
      return;
    }
    if (typeof v === 'number' && (Number.isSafeInteger(v) || v === 0)) {
      this.k = SHORT;
      this.c = v;
      this.x = 0;
      this.w = undefined;
      this.b = undefined;
      return;
    }
    const d = v instanceof Decimal ? v : typeof v === 'number' ? (fromNumber(v) ?? parse(String(v))) : parse(v);
    this.k = d.k;
    this.c = d.c;
    this.x = d.x;
    this.w = d.w;
    this.b = d.b;
  }

  // ---- arithmetic ----

  plus(v: DecimalValue): Decimal {
    return this.sum(v instanceof Decimal ? v : new Decimal(v), false);
  }

  minus(v: DecimalValue): Decimal {
    return this.sum(v instanceof Decimal ? v : new Decimal(v), true);
  }

  /** this + y, or this - y; zeros signed as IEEE and decimal.js sign them (-0 + -0 is -0, x - x is +0). */
  private sum(y: Decimal, subtract: boolean): Decimal {
    // x ± 0 is x itself when x is a short or wide value other than a zero (a zero's sign depends on both;
    // decimal.js would round a long BIG one to 60 digits): no new value. Ledgers and reports add many
    // zeros (no fee yet, nothing unrealized).
    if (y.k === SHORT && y.c === 0 && this.k !== BIG && !(this.k === SHORT && this.c === 0)) return this;
    if ((this.k | y.k) === SHORT) {
      const ax = this.x;
      const bx = y.x;
      let a = this.c;
      let b = y.c;
      let x = ax;
      if (ax < bx) {
        a *= POW10[bx - ax]!;
        x = bx;
      } else if (bx < ax) b *= POW10[ax - bx]!;
      const s = subtract ? a - b : a + b;
      if (s <= SAFE && s >= -SAFE && a <= SAFE && a >= -SAFE && b <= SAFE && b >= -SAFE) return short(s, x);
    }
    if (this.k !== BIG && y.k !== BIG) {
      const r = wideSum(this, y, subtract);
      if (r !== null) return r;
    }
    return fromBig(subtract ? this.big().minus(y.big()) : this.big().plus(y.big()));
  }

  times(v: DecimalValue): Decimal {
    const y = v instanceof Decimal ? v : new Decimal(v);
    if ((this.k | y.k) === SHORT) {
      const p = this.c * y.c;
      if (p <= SAFE && p >= -SAFE) return normal(p, this.x + y.x);
    }
    if (this.k !== BIG && y.k !== BIG) {
      // A zero factor: a zero with the sign of the product, as decimal.js (the wide form is never zero).
      if (this.isZero() || y.isZero()) return raw(this.isNegative() !== y.isNegative() ? -0 : 0, 0);
      const r = wide(coefficient(this) * coefficient(y), this.x + y.x);
      if (r !== null) return r;
    }
    return fromBig(this.big().times(y.big()));
  }

  /** The quotient, exact when it ends within the short form, else decimal.js's at 60 digits. */
  div(v: DecimalValue): Decimal {
    const y = v instanceof Decimal ? v : new Decimal(v);
    const a = this.c;
    const b = y.c;
    if ((this.k | y.k) === SHORT && b !== 0) {
      // Find the fewest extra places k with a·10^k divisible by b; the quotient then ends there.
      for (let k = 0; k <= MAX_PLACES; k++) {
        const n = a * POW10[k]!;
        if (n > SAFE || n < -SAFE) break;
        if (n % b === 0) {
          const q = n / b;
          const x = this.x - y.x + k;
          if (x >= 0) return normal(q, x);
          const m = q * POW10[-x]!;
          if (m <= SAFE && m >= -SAFE) return short(m, 0);
          break;
        }
      }
    }
    return fromBig(this.big().div(y.big()));
  }

  add(v: DecimalValue): Decimal {
    return this.plus(v);
  }
  sub(v: DecimalValue): Decimal {
    return this.minus(v);
  }
  mul(v: DecimalValue): Decimal {
    return this.times(v);
  }

  neg(): Decimal {
    if (this.k === SHORT) return raw(-this.c, this.x);
    if (this.k === WIDE) return rawWide(-this.w!, this.x);
    return fromBig(this.big().neg());
  }

  abs(): Decimal {
    if (this.k === SHORT) return this.c < 0 || Object.is(this.c, -0) ? raw(-this.c, this.x) : this;
    if (this.k === WIDE) return this.w! < 0n ? rawWide(-this.w!, this.x) : this;
    return fromBig(this.big().abs());
  }

  sqrt(): Decimal {
    return fromBig(this.big().sqrt());
  }
  log(base?: DecimalValue): Decimal {
    return fromBig(base === undefined ? this.big().log() : this.big().log(toBig(base)));
  }
  ln(): Decimal {
    return fromBig(this.big().ln());
  }
  exp(): Decimal {
    return fromBig(this.big().exp());
  }
  pow(v: DecimalValue): Decimal {
    return fromBig(this.big().pow(toBig(v)));
  }
  mod(v: DecimalValue): Decimal {
    return fromBig(this.big().mod(toBig(v)));
  }

  // ---- comparison ----

  /** -1, 0 or 1; NaN when either side is NaN (as decimal.js). */
  cmp(v: DecimalValue): number {
    const y = v instanceof Decimal ? v : new Decimal(v);
    if ((this.k | y.k) === SHORT) {
      // Only one side is scaled; past 2^53 it is inexact but then larger than the other side, so the
      // double comparison still orders them.
      const ax = this.x;
      const bx = y.x;
      let a = this.c;
      let b = y.c;
      if (ax < bx) a *= POW10[bx - ax]!;
      else if (bx < ax) b *= POW10[ax - bx]!;
      return a > b ? 1 : a < b ? -1 : 0;
    }
    if (this.k !== BIG && y.k !== BIG) {
      let a = coefficient(this);
      let b = coefficient(y);
      if (this.x < y.x) a *= POW10N[y.x - this.x]!;
      else if (y.x < this.x) b *= POW10N[this.x - y.x]!;
      return a > b ? 1 : a < b ? -1 : 0;
    }
    return this.big().cmp(y.big());
  }
  comparedTo(v: DecimalValue): number {
    return this.cmp(v);
  }
  eq(v: DecimalValue): boolean {
    return this.cmp(v) === 0;
  }
  equals(v: DecimalValue): boolean {
    return this.cmp(v) === 0;
  }
  gt(v: DecimalValue): boolean {
    return this.cmp(v) > 0;
  }
  gte(v: DecimalValue): boolean {
    return this.cmp(v) >= 0;
  }
  lt(v: DecimalValue): boolean {
    return this.cmp(v) < 0;
  }
  lte(v: DecimalValue): boolean {
    return this.cmp(v) <= 0;
  }

  /**
   * The value as a number when that number stands for it exactly both ways: a short value of at most 15
   * digits, from 1e-6 (or +0) up, which String() writes as this decimal's own text and `new Decimal()`
   * reads back in the same form. NaN otherwise. Lets a long list keep decimals as plain doubles.
   */
  exactNumber(): number {
    if (this.k !== SHORT) return Number.NaN;
    const c = this.c;
    if (c === 0) return Object.is(c, 0) ? 0 : Number.NaN;
    if (c >= 1e15 || c <= -1e15) return Number.NaN;
    const n = this.x === 0 ? c : c / POW10[this.x]!;
    return n >= 1e-6 || n <= -1e-6 ? n : Number.NaN;
  }

  /** Whether the value is in the short form (a safe integer coefficient): sums of short values need no BigInt. */
  isShort(): boolean {
    return this.k === SHORT;
  }

  isZero(): boolean {
    return this.k === SHORT ? this.c === 0 : this.k === WIDE ? false : this.b!.isZero();
  }
  /** True for +0, as in decimal.js (the sign is what is asked). */
  isPositive(): boolean {
    return this.k === SHORT ? this.c > 0 || Object.is(this.c, 0) : this.k === WIDE ? this.w! > 0n : this.b!.isPositive();
  }
  /** True for -0, as in decimal.js. */
  isNegative(): boolean {
    return this.k === SHORT ? this.c < 0 || Object.is(this.c, -0) : this.k === WIDE ? this.w! < 0n : this.b!.isNegative();
  }
  isFinite(): boolean {
    return this.k !== BIG || this.b!.isFinite();
  }
  isNaN(): boolean {
    return this.k === BIG && this.b!.isNaN();
  }
  isInteger(): boolean {
    return this.k !== BIG ? this.x === 0 : this.b!.isInteger();
  }

  // ---- rounding ----

  /** Places after the point of the value at its shortest; NaN for NaN and ±Infinity. */
  decimalPlaces(): number {
    return this.k !== BIG ? this.x : this.b!.decimalPlaces();
  }

  toDecimalPlaces(dp?: number, rm: Rounding = 6): Decimal {
    if (dp === undefined) return this;
    if (this.k !== BIG && Number.isInteger(dp) && dp >= 0 && dp <= 1e9 && rm >= 0 && rm <= 8) {
      if (this.x <= dp) return this;
      if (this.k === SHORT) return short(roundCoefficient(this.c, this.x - dp, rm), dp);
      return wideRounded(roundWide(this.w!, this.x - dp, rm), dp, this.w! < 0n);
    }
    return fromBig(this.big().toDecimalPlaces(dp, rm));
  }

  toSignificantDigits(sd?: number, rm: Rounding = 6): Decimal {
    if (sd === undefined) return this;
    if (this.k !== BIG && Number.isInteger(sd) && sd >= 1 && sd <= 1e9 && rm >= 0 && rm <= 8) {
      const digits = this.k === SHORT ? shortDigits(Math.abs(this.c)) : String(this.w! < 0n ? -this.w! : this.w!).length;
      if (digits <= sd) return this;
      const drop = digits - sd;
      if (this.k === SHORT) {
        const q = roundCoefficient(this.c, drop, rm);
        if (drop <= this.x) return short(q, this.x - drop);
        const m = q * POW10[drop - this.x]!;
        if (m <= SAFE && m >= -SAFE) return short(m, 0);
      } else {
        const q = roundWide(this.w!, drop, rm);
        if (drop <= this.x) return wideRounded(q, this.x - drop, this.w! < 0n);
        const r = wide(q * POW10N[drop - this.x]!, 0);
        if (r !== null) return r;
      }
    }
    return fromBig(this.big().toSignificantDigits(sd, rm));
  }

  floor(): Decimal {
    return this.toDecimalPlaces(0, 3);
  }
  ceil(): Decimal {
    return this.toDecimalPlaces(0, 2);
  }
  /** To a whole number, half-even (the configured rounding, as decimal.js's round()). */
  round(): Decimal {
    return this.toDecimalPlaces(0, 6);
  }

  // ---- output ----

  /** Plain notation up to 60 digits either side of the point, then exponent notation (as configured). */
  toString(): string {
    if (this.k === SHORT) {
      const text = plain(this.c < 0, intText(this.c < 0 ? -this.c : this.c), this.x);
      // Not a zero: "0" reads back as +0, and this may be -0.
      if (this.c !== 0) {
        printedText = text;
        printedValue = this;
      }
      return text;
    }
    if (this.k === WIDE) return plain(this.w! < 0n, String(this.w! < 0n ? -this.w! : this.w!), this.x);
    return this.b!.toString();
  }

  /** As valueOf: -0 is "-0" (decimal.js's toJSON). */
  toJSON(): string {
    return this.valueOf();
  }

  /** As toString, but -0 is "-0" (decimal.js's valueOf). */
  valueOf(): string {
    if (this.k === BIG) return this.b!.valueOf();
    return this.k === SHORT && Object.is(this.c, -0) ? '-0' : this.toString();
  }

  /**
   * The value as a double within about an ulp of it, cheaply: toNumber() for a short value, the wide
   * coefficient rounded to a double and divided by the power of ten for a wide one (two roundings, so
   * not always the nearest double). For figures that are doubles anyway (a per-candle PnL series).
   */
  roughNumber(): number {
    if (this.k === WIDE && this.x <= MAX_PLACES) return Number(this.w!) / POW10[this.x]!;
    return this.toNumber();
  }

  toNumber(): number {
    // Both operands are exact doubles, so the division is the correctly rounded value, as Number(string).
    if (this.k === SHORT) return this.x === 0 ? this.c : this.c / POW10[this.x]!;
    // The coefficient and exponent as text: the same real number as toString() writes, read with one
    // correct rounding, without laying out the point.
    if (this.k === WIDE) return Number(`${this.w!}e-${this.x}`);
    return this.b!.toNumber();
  }

  /** Plain notation; with dp, rounded (rm, half-even by default) and padded to dp places. */
  toFixed(dp?: number, rm: Rounding = 6): string {
    if (this.k === BIG) return dp === undefined ? this.b!.toFixed() : this.b!.toFixed(dp, rm);
    if (dp === undefined) return this.toString();
    if (!(Number.isInteger(dp) && dp >= 0 && dp <= 1e9 && rm >= 0 && rm <= 8)) return this.big().toFixed(dp, rm);
    const r = this.toDecimalPlaces(dp, rm);
    const digits = r.k === SHORT ? intText(Math.abs(r.c)) : String(r.w! < 0n ? -r.w! : r.w!);
    let text: string;
    if (dp === 0) text = digits;
    else {
      const whole = digits.length > r.x ? digits.slice(0, digits.length - r.x) : '0';
      const frac = (digits.length > r.x ? digits.slice(digits.length - r.x) : digits.padStart(r.x, '0')).padEnd(dp, '0');
      text = `${whole}.${frac}`;
    }
    // decimal.js signs by the value before rounding: -0.001 to 2 places is "-0.00", -0 is "0".
    return this.isNegative() && !this.isZero() ? `-${text}` : text;
  }

  toPrecision(sd?: number, rm?: Rounding): string {
    return sd === undefined ? this.big().toPrecision() : this.big().toPrecision(sd, rm ?? 6);
  }

  /**
   * The decimal.js form, for the operations this class does not do itself. Not kept: a value's fields
   * are its value alone, so equal values compare equal field by field (as decimal.js values do).
   */
  private big(): Big {
    return this.b ?? new Big(this.valueOf());
  }

  // ---- statics, as decimal.js's ----

  static max(...values: DecimalValue[]): Decimal {
    return pick(values, 1);
  }
  static min(...values: DecimalValue[]): Decimal {
    return pick(values, -1);
  }
  static add(a: DecimalValue, b: DecimalValue): Decimal {
    return new Decimal(a).plus(b);
  }
  static sub(a: DecimalValue, b: DecimalValue): Decimal {
    return new Decimal(a).minus(b);
  }
  static mul(a: DecimalValue, b: DecimalValue): Decimal {
    return new Decimal(a).times(b);
  }
  static div(a: DecimalValue, b: DecimalValue): Decimal {
    return new Decimal(a).div(b);
  }

  /**
   * a / b rounded to `sd` significant digits with `rm`, as a decimal.js clone of that precision and
   * rounding would give it (an amount cut to a step, say).
   */
  static quotient(a: DecimalValue, b: DecimalValue, sd: number, rm: Rounding): Decimal {
    const x = a instanceof Decimal ? a : new Decimal(a);
    const y = b instanceof Decimal ? b : new Decimal(b);
    if (x.k !== BIG && y.k !== BIG && !y.isZero() && Number.isInteger(sd) && sd >= 1 && sd <= 1e9 && rm >= 0 && rm <= 8) {
      if (x.isZero()) return raw(x.isNegative() !== y.isNegative() ? -0 : 0, 0);
      if (rm === Decimal.ROUND_DOWN && (x.k | y.k) === SHORT) {
        const t = truncatedQuotient(x.c, x.x, y.c, y.x, sd);
        if (t !== null) return t;
      }
      const r = roundedQuotient(coefficient(x), x.x, coefficient(y), y.x, sd, rm);
      if (r !== null) return r;
    }
    // Taken into this module's decimal.js (the clone's value would keep rounding by sd and rm).
    return fromBig(new Big(cloneFor(sd, rm).div(toBig(a), toBig(b))));
  }
}

function raw(c: number, x: number): Decimal {
  return new Decimal(RAW, SHORT, c, x, undefined, undefined);
}

function rawWide(w: bigint, x: number): Decimal {
  return new Decimal(RAW, WIDE, Number.NaN, x, w, undefined);
}

/** The coefficient of a short or wide value as a BigInt. */
function coefficient(d: Decimal): bigint {
  const p = d as unknown as { k: number; c: number; w: bigint };
  return p.k === SHORT ? BigInt(p.c) : p.w;
}

/** a ± b in BigInt, or null when the result outgrows the wide form (decimal.js then rounds it). */
function wideSum(a: Decimal, b: Decimal, subtract: boolean): Decimal | null {
  const ax = (a as unknown as { x: number }).x;
  const bx = (b as unknown as { x: number }).x;
  let aw = coefficient(a);
  let bw = coefficient(b);
  if (ax < bx) aw *= POW10N[bx - ax]!;
  else if (bx < ax) bw *= POW10N[ax - bx]!;
  // A zero sum of a wide value is +0, as decimal.js: the wide form is never zero, so this is never -0 - 0.
  return wide(subtract ? aw - bw : aw + bw, ax > bx ? ax : bx);
}

/**
 * w / 10^x in its form: short when it fits, wide within the limits, null past them. Trailing zeros are
 * dropped first, so each value has one form.
 */
function wide(w: bigint, x: number): Decimal | null {
  if (w === 0n) return raw(0, 0);
  while (x > 0 && w % 10n === 0n) {
    w /= 10n;
    x--;
  }
  if (x <= MAX_PLACES && w <= SAFE_N && w >= -SAFE_N) return raw(Number(w), x);
  if (x > MAX_WIDE_PLACES || w >= WIDE_LIMIT || w <= -WIDE_LIMIT) return null;
  return rawWide(w, x);
}

/** A wide value rounded to q / 10^x (q has fewer digits, so it fits); a zero keeps the sign it had. */
function wideRounded(q: bigint, x: number, negative: boolean): Decimal {
  if (q === 0n) return raw(negative ? -0 : 0, 0);
  return wide(q, x)!;
}

/** A safe coefficient at any places: short up to 22 places, wide past them, decimal.js past 50. */
function normal(c: number, x: number): Decimal {
  if (x <= MAX_PLACES) return short(c, x);
  if (c === 0) return raw(c, 0);
  return wide(BigInt(c), x) ?? fromBig(new Big(`${String(c)}e-${x}`));
}

/** c / 10^x (x at most 22) with trailing zeros dropped, so each value has one form; a zero keeps its sign. */
function short(c: number, x: number): Decimal {
  while (x > 0 && c % 10 === 0) {
    if (c === 0) return raw(c, 0);
    c /= 10;
    x--;
  }
  return raw(c, x);
}

/**
 * A number's shortest decimal form (what String(v) writes) without building the string, or null where
 * this cannot tell it cheaply. The fewest places k at which some k-place decimal reads back as v give the
 * shortest form; the k-place decimal nearest v is within one of round(v × 10^k) (the product is rounded
 * once), and c / 10^k is the double nearest c·10^-k (both exact, one rounding), which is what reading the
 * decimal gives. Where two k-place decimals read back as v, String picks the nearer; that is left to it.
 * Exponent forms (below 1e-6, from 1e21) are left to it too.
 */
function fromNumber(v: number): Decimal | null {
  const a = v < 0 ? -v : v;
  if (!(a >= 1e-6 && a < 1e21)) return null;
  for (let k = 1; k <= MAX_PLACES; k++) {
    const p = POW10[k]!;
    const c = Math.round(v * p);
    if (!Number.isSafeInteger(c + 1) || !Number.isSafeInteger(c - 1)) return null;
    const hit = c / p === v;
    const below = (c - 1) / p === v;
    const above = (c + 1) / p === v;
    if (!hit && !below && !above) continue;
    if ((hit ? 1 : 0) + (below ? 1 : 0) + (above ? 1 : 0) > 1) return null;
    return short(hit ? c : below ? c - 1 : c + 1, k);
  }
  return null;
}

/** A string to its form: plain decimals are read here, anything else (exponents, NaN) by decimal.js. */
/**
 * The last short value printed and its text. A decimal printed and read straight back (a controller's
 * base amount handed to its executor as config text, once per executor) is taken from here rather than
 * parsed: the text is the value's canonical form, so parsing it gives the same value in the same form.
 */
let printedText: string | null = null;
let printedValue: Decimal | null = null;

function parse(v: string): Decimal {
  if (v === printedText) return printedValue!;
  const fast = typeof v === 'string' && v.length <= 17 ? parseShort(v) : null;
  if (fast !== null) return fast;
  if (typeof v === 'string' && v.length <= 120 && PLAIN.test(v)) {
    const point = v.indexOf('.');
    const places = point < 0 ? 0 : v.length - point - 1;
    const digits = point < 0 ? v : v.slice(0, point) + v.slice(point + 1);
    if (digits.length <= 17) {
      const c = Number(digits);
      if (Number.isSafeInteger(c) || c === 0) return normal(c, places);
    }
    const w = BigInt(digits);
    if (w === 0n) return raw(v.startsWith('-') ? -0 : 0, 0);
    const r = wide(w, places);
    if (r !== null) return r;
  }
  return fromBig(new Big(v));
}

/**
 * A plain decimal of at most 15 digits (what PLAIN matches: an optional minus, digits, and a point with
 * digits after it) read character by character, with no regular expression, slice or Number(string); null
 * for anything else, which parse then reads as before. Under 10^15 the coefficient is exact.
 */
function parseShort(v: string): Decimal | null {
  const n = v.length;
  let i = 0;
  const negative = n > 0 && v.charCodeAt(0) === 45;
  if (negative) i = 1;
  let c = 0;
  let digits = 0;
  let places = -1;
  for (; i < n; i++) {
    const ch = v.charCodeAt(i);
    if (ch >= 48 && ch <= 57) {
      c = c * 10 + (ch - 48);
      digits++;
      if (places >= 0) places++;
    } else if (ch === 46 && places < 0 && digits > 0) places = 0;
    else return null;
  }
  if (digits === 0 || places === 0 || digits > 15) return null;
  return normal(negative ? -c : c, places < 0 ? 0 : places);
}

/** c / 10^drop rounded to a whole number by rm; a rounding to zero keeps c's sign. */
function roundCoefficient(c: number, drop: number, rm: Rounding): number {
  if (drop === 0) return c;
  const p = drop <= MAX_PLACES ? POW10[drop]! : Number(`1e${drop}`);
  const r = drop <= 17 ? c % p : c; // past 10^17 > 2^53 the whole coefficient is the remainder
  let q = r === c ? 0 : (c - r) / p;
  if (r !== 0 && roundsAway(rm, r > 0, 2 * Math.abs(r), p, Math.abs(q) % 2 === 1)) q += r < 0 ? -1 : 1;
  return q === 0 && (c < 0 || Object.is(c, -0)) ? -0 : q;
}

/**
 * (a / 10^ax) / (b / 10^bx) correctly rounded to sd significant digits by rm, in BigInt: the integer
 * quotient taken to at least sd + 1 digits, then rounded with the remainder as a sticky digit (it only
 * tells an exact half from a bit more, and whether anything was cut). Null when the result does not
 * fit the wide form.
 */
/**
 * The digits of a short coefficient (a safe integer). toFixed(0) prints an integer's exact digits, as
 * String() does below 1e21, at a third of its cost for a value not in V8's number-to-string cache: a
 * backtest prints mostly values it has never printed.
 */
function intText(c: number): string {
  return c.toFixed(0);
}

/** How many digits a non-negative safe integer has (1 for zero). */
function shortDigits(c: number): number {
  let d = 1;
  while (d < 16 && c >= POW10[d]!) d++;
  return d;
}

/** How many digits a non-negative BigInt has, by comparison from a guess rather than by printing it. */
function digitCount(n: bigint, guess: number): number {
  if (n >= POW10N[POW10N.length - 1]!) return String(n).length;
  let d = Math.max(1, Math.min(guess, POW10N.length - 1));
  while (d > 1 && n < POW10N[d - 1]!) d--;
  while (n >= POW10N[d]!) d++;
  return d;
}

/** Divisors below this keep ten times any remainder an exact double (10 × 9e14 < 2^53). */
const DIVISOR_LIMIT = 9e14;
/** Fraction digits truncatedQuotient produces at most (past them, leading zeros of a tiny quotient). */
const QUOTIENT_PLACES = 40;

/**
 * (ca / 10^ax) / (cb / 10^bx) cut (ROUND_DOWN) to sd significant digits, for short operands, by long
 * division in doubles: each remainder is below the divisor, so the remainder times 10^k is an exact
 * integer while the divisor times 10^k is, and `%` and the division by the divisor of what is left are
 * exact. So each round brings down k digits at once (as many as the divisor leaves room for, and no
 * more than the digits still wanted). What a BigInt division would give (the same value, in its one
 * form), without the BigInts: a controller's base amount is one per executor. Null where it does not
 * apply (a large divisor, a quotient past the short form or with more integer digits than sd); the
 * caller divides as usual then.
 */
function truncatedQuotient(ca: number, ax: number, cb: number, bx: number, sd: number): Decimal | null {
  const negative = ca < 0 !== cb < 0;
  const a = ca < 0 ? -ca : ca;
  const b = cb < 0 ? -cb : cb;
  if (b >= DIVISOR_LIMIT || sd > 16) return null;
  let r = a % b;
  let q = (a - r) / b;
  let digits = q === 0 ? 0 : shortDigits(q);
  if (digits > sd) return null;
  // Digits one round may bring down: r × 10^room stays below 2^53 for every r below b.
  let room = 1;
  while (room < 15 && b * POW10[room + 1]! <= SAFE) room++;
  let places = 0;
  while (digits < sd && r !== 0) {
    // No more than sd − digits: while q is 0 the round's leading zeros are not digits, and it brings down at most sd.
    const k = Math.min(room, sd - digits, QUOTIENT_PLACES - places);
    if (k === 0) return null;
    const p = POW10[k]!;
    r *= p;
    const rest = r % b;
    q = q * p + (r - rest) / b;
    if (q > SAFE) return null;
    r = rest;
    places += k;
    digits = q === 0 ? 0 : shortDigits(q);
  }
  const x = places + ax - bx;
  const c = negative ? -q : q;
  if (x >= 0) return normal(c, x);
  const scaled = c * POW10[-x]!;
  return -x <= MAX_PLACES && Number.isSafeInteger(scaled) ? short(scaled, 0) : null;
}

function roundedQuotient(a: bigint, ax: number, b: bigint, bx: number, sd: number, rm: Rounding): Decimal | null {
  const negative = a < 0n !== b < 0n;
  const na = a < 0n ? -a : a;
  const nb = b < 0n ? -b : b;
  const k = Math.max(0, sd + 1 + digitCount(nb, 16) - digitCount(na, 16));
  if (k > 120) return null;
  const n = na * POW10N[k]!;
  let q = n / nb;
  const rest = n % nb;
  const drop = digitCount(q, sd + 1) - sd;
  if (drop > 0) {
    const p = POW10N[drop]!;
    const t = q % p;
    q /= p;
    if (t !== 0n || rest !== 0n) {
      const twice = 2n * t;
      const half = twice > p || (twice === p && rest !== 0n) ? 1 : twice === p ? 0 : -1;
      if (roundsAway(rm, !negative, half, 0, q % 2n !== 0n)) q += 1n;
    }
  } else if (rest !== 0n) return null; // cannot happen: k gives the quotient at least sd + 1 digits
  const e = Math.max(drop, 0) - k + bx - ax;
  const w = negative ? -q : q;
  if (e >= 0) return e <= 60 ? wide(w * POW10N[e]!, 0) : null;
  return wide(w, -e);
}

/** roundCoefficient for a BigInt coefficient (the caller keeps the sign of a zero). */
function roundWide(w: bigint, drop: number, rm: Rounding): bigint {
  const p = POW10N[drop] ?? 10n ** BigInt(drop);
  const r = w % p;
  let q = w / p;
  if (r !== 0n) {
    const twice = 2n * (r < 0n ? -r : r);
    const half = twice === p ? 0 : twice > p ? 1 : -1;
    if (roundsAway(rm, r > 0n, half, 0, q % 2n !== 0n)) q += r < 0n ? -1n : 1n;
  }
  return q;
}

/**
 * Whether a rounding moves away from zero, given the sign of the cut part and how it stands against
 * half a unit: `twice` vs `p` (twice the cut part and the unit), or, with p 0, `twice` already -1, 0
 * or 1 for below, at and above half.
 */
function roundsAway(rm: Rounding, positive: boolean, twice: number, p: number, odd: boolean): boolean {
  const half = p === 0 ? twice : twice === p ? 0 : twice > p ? 1 : -1;
  switch (rm) {
    case 0:
      return true;
    case 1:
      return false;
    case 2:
      return positive;
    case 3:
      return !positive;
    case 4:
      return half >= 0;
    case 5:
      return half > 0;
    case 6:
      return half > 0 || (half === 0 && odd);
    case 7:
      return half > 0 || (half === 0 && positive);
    default:
      return half > 0 || (half === 0 && !positive);
  }
}

/** The digits of |value| with the point x places from the right; "-" for a negative value. */
function plain(negative: boolean, digits: string, x: number): string {
  let text: string;
  if (x === 0) text = digits;
  else if (digits.length > x) text = `${digits.slice(0, digits.length - x)}.${digits.slice(digits.length - x)}`;
  else text = `0.${digits.padStart(x, '0')}`;
  return negative ? `-${text}` : text;
}

/**
 * decimal.js's value in the form this module would give it (short or wide when it fits, else as it is),
 * so that equal values are equal field by field whichever way they were computed.
 */
function fromBig(b: Big): Decimal {
  const d = (b as unknown as { d: number[] | null }).d;
  if (d && d.length <= 10) {
    const negative = b.isNegative();
    if (!d[0]) return raw(negative ? -0 : 0, 0);
    const lead = d[0];
    const digits = (lead < 10 ? 1 : lead < 100 ? 2 : lead < 1e3 ? 3 : lead < 1e4 ? 4 : lead < 1e5 ? 5 : lead < 1e6 ? 6 : 7) + 7 * (d.length - 1);
    const x = digits - 1 - (b as unknown as { e: number }).e;
    if (d.length <= 2) {
      // At most 14 digits: exact in a double.
      let n = d.length === 1 ? lead : lead * 1e7 + d[1]!;
      if (x >= 0 && x <= MAX_PLACES) return short(negative ? -n : n, x);
      if (-x <= MAX_PLACES) {
        n *= POW10[-x]!;
        if (n <= SAFE) return raw(negative ? -n : n, 0);
      }
    }
    let w = BigInt(lead);
    for (let i = 1; i < d.length; i++) w = w * 10_000_000n + BigInt(d[i]!);
    if (negative) w = -w;
    const r = x >= 0 ? wide(w, x) : -x <= 60 ? wide(w * POW10N[-x]!, 0) : null;
    if (r !== null) return r;
  }
  return new Decimal(RAW, BIG, Number.NaN, 0, undefined, b);
}

function toBig(v: DecimalValue): Big {
  return (v instanceof Decimal ? v : new Decimal(v))['big']();
}

function pick(values: DecimalValue[], sign: 1 | -1): Decimal {
  // decimal.js's rule, ties included: on equal values the later one wins when the kept one has the
  // sign being moved away from (max keeps 0 over -0, min keeps -0 over 0).
  const n = -sign;
  if (values.length === 0) throw new Error('[DecimalError] max/min of nothing');
  let best = values[0] instanceof Decimal ? values[0] : new Decimal(values[0]!);
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    const d = v instanceof Decimal ? v : new Decimal(v);
    if (d.isNaN()) return d;
    const k = best.cmp(d);
    if (k === n || (k === 0 && (best.isNegative() ? -1 : 1) === n)) best = d;
  }
  return best;
}

const clones = new Map<string, typeof Big>();
function cloneFor(sd: number, rm: Rounding): typeof Big {
  const key = `${sd}:${rm}`;
  let c = clones.get(key);
  if (c === undefined) {
    c = Big.clone({ precision: sd, rounding: rm });
    clones.set(key, c);
  }
  return c;
}
