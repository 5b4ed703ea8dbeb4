import { Decimal as Base } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, type Rounding } from '../../src/core/exact-decimal.js';

/**
 * The exact decimal against decimal.js configured as money was before it (60 digits, half-even): every
 * operation, on generated values of every shape the short form and its fallback meet, gives the same
 * digits and the same sign of zero (valueOf prints -0 as "-0").
 */
const Ref = Base.clone({ precision: 60, rounding: Base.ROUND_HALF_EVEN, toExpNeg: -60, toExpPos: 60 });

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
/** Plain decimals: short ones (most of what money is), long ones past 2^53, zeros of either sign. */
const plainText = fc
  .tuple(fc.boolean(), fc.oneof(digits(1, 6), digits(1, 12), digits(14, 30)), fc.oneof(fc.constant(''), digits(1, 4), digits(1, 10), digits(18, 30)))
  .map(([neg, whole, frac]) => `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`);
const special = fc.constantFrom('0', '-0', '1', '-1', '0.1', '0.5', '-0.5', '1.5', '2.5', '9007199254740991', '9007199254740992', '-9007199254740993', '1e-7', '1.5e21', '1e20', '123e-30', '0.0000000000000000000001', '0.00000000000000000000001', 'NaN', 'Infinity', '-Infinity');
const text = fc.oneof({ weight: 6, arbitrary: plainText }, { weight: 1, arbitrary: special });
const number = fc.oneof(fc.integer(), fc.double({ noNaN: false }), fc.constantFrom(0.1, 57953.61, -0, 1e-7, 1e21, 0.000001234));
const value = fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: number });
const rounding = fc.integer({ min: 0, max: 8 }) as fc.Arbitrary<Rounding>;
const RUNS = { seed: 20261204, numRuns: 3000 };

/** What a value is, in full: its digits and the sign of a zero. */
const show = (d: { valueOf(): string }) => d.valueOf();

function same<T>(ours: () => T, ref: () => T): void {
  let want: T | Error;
  try {
    want = ref();
  } catch (err) {
    want = err as Error;
  }
  if (want instanceof Error) {
    expect(ours).toThrow(want.message);
    return;
  }
  expect(ours()).toEqual(want);
}

describe('exact decimal, against decimal.js', () => {
  it('parses strings and numbers to the same value', () => {
    fc.assert(fc.property(value, (v) => same(() => show(new Decimal(v)), () => show(new Ref(v)))), RUNS);
  });

  it('reads a number into the very form its shortest string gives (read without building the string)', () => {
    // Prices and amounts as a path or a config gives them (few places, any magnitude), and any double.
    const priced = fc.tuple(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 12 })).map(([c, k]) => c / 10 ** k);
    const anyNumber = fc.oneof(priced, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(1e-6, 9.99e-7, 1e21, 1e21 - 65536, 0.1 + 0.2, 2 ** 53 - 0.5, 4503599627370495.5));
    fc.assert(
      fc.property(anyNumber, (n) => {
        if (Object.is(n, -0)) return;
        expect(new Decimal(n)).toStrictEqual(new Decimal(String(n)));
      }),
      { ...RUNS, numRuns: 20_000 },
    );
  });

  it('reads a value printed just before back in the very form parsing gives (the last print is remembered)', () => {
    fc.assert(
      fc.property(text, (a) => {
        let x: Decimal;
        try {
          x = new Decimal(a);
        } catch {
          return;
        }
        const printed = x.toString();
        // A copy of the text, parsed once some other value was printed (a real parse), then right after
        // the value is printed again (read from the last print).
        const copy = ` ${printed}`.slice(1);
        new Decimal(printed === '1.25' ? '2.5' : '1.25').toString();
        const parsed = new Decimal(copy);
        x.toString();
        expect(new Decimal(copy)).toStrictEqual(parsed);
        expect(show(parsed)).toBe(show(new Ref(copy)));
      }),
      RUNS,
    );
    // -0 prints as "0", which reads back as +0: a zero is never taken from the last print.
    const negativeZero = new Decimal('-0');
    expect(negativeZero.toString()).toBe('0');
    expect(show(new Decimal('0'))).toBe('0');
  });

  it('refuses what decimal.js refuses, with its message', () => {
    for (const bad of ['', ' 1', '1,5', 'abc', '1..2', '--1']) same(() => show(new Decimal(bad)), () => show(new Ref(bad)));
  });

  for (const op of ['plus', 'minus', 'times', 'div', 'add', 'sub', 'mul'] as const) {
    it(`${op} gives the same digits and zero sign`, () => {
      fc.assert(fc.property(value, value, (a, b) => same(() => show(new Decimal(a)[op](b)), () => show(new Ref(a)[op](b)))), RUNS);
    });
  }

  it('compares the same', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const x = new Decimal(a);
        const y = new Ref(a);
        same(() => x.cmp(b), () => y.cmp(b));
        same(() => [x.eq(b), x.gt(b), x.gte(b), x.lt(b), x.lte(b)], () => [y.eq(b), y.gt(b), y.gte(b), y.lt(b), y.lte(b)]);
      }),
      RUNS,
    );
  });

  it('answers the same about a value', () => {
    fc.assert(
      fc.property(value, (a) => {
        const x = new Decimal(a);
        const y = new Ref(a);
        expect([x.isZero(), x.isPositive(), x.isNegative(), x.isFinite(), x.isNaN(), x.isInteger(), x.decimalPlaces()]).toEqual([y.isZero(), y.isPositive(), y.isNegative(), y.isFinite(), y.isNaN(), y.isInteger(), y.decimalPlaces()]);
        expect([show(x.abs()), show(x.neg()), show(x.floor()), show(x.ceil()), show(x.round())]).toEqual([show(y.abs()), show(y.neg()), show(y.floor()), show(y.ceil()), show(y.round())]);
        expect([x.toString(), x.toJSON(), x.toFixed()]).toEqual([y.toString(), y.toJSON(), y.toFixed()]);
        expect(Object.is(x.toNumber(), y.toNumber())).toBe(true);
      }),
      RUNS,
    );
  });

  it('reads a rough number within an ulp or two of the nearest one', () => {
    fc.assert(
      fc.property(value, (a) => {
        const x = new Decimal(a);
        const near = x.toNumber();
        const rough = x.roughNumber();
        if (!Number.isFinite(near)) {
          expect(Object.is(rough, near)).toBe(true);
          return;
        }
        const ulp = Math.max(Number.MIN_VALUE, Math.abs(near) * Number.EPSILON);
        expect(Math.abs(rough - near)).toBeLessThanOrEqual(2 * ulp);
      }),
      RUNS,
    );
  });

  it('rounds to places and to significant digits the same, in every rounding mode', () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 30 }), rounding, (a, dp, sd, rm) => {
        const x = new Decimal(a);
        const y = new Ref(a);
        same(() => show(x.toDecimalPlaces(dp, rm)), () => show(y.toDecimalPlaces(dp, rm)));
        same(() => show(x.toSignificantDigits(sd, rm)), () => show(y.toSignificantDigits(sd, rm)));
        same(() => x.toFixed(dp, rm), () => y.toFixed(dp, rm));
        same(() => x.toFixed(dp), () => y.toFixed(dp));
      }),
      RUNS,
    );
  });

  it('keeps agreeing along chains of operations (results that left the short form and came back)', () => {
    const step = fc.tuple(fc.constantFrom('plus', 'minus', 'times', 'div', 'dp', 'sd') , value, fc.integer({ min: 0, max: 12 }), rounding);
    fc.assert(
      fc.property(value, fc.array(step, { minLength: 1, maxLength: 12 }), (start, steps) => {
        let x: Decimal;
        let y: InstanceType<typeof Ref>;
        try {
          y = new Ref(start);
        } catch {
          return;
        }
        x = new Decimal(start);
        for (const [op, v, n, rm] of steps) {
          try {
            y = op === 'dp' ? y.toDecimalPlaces(n, rm) : op === 'sd' ? y.toSignificantDigits(n + 1, rm) : y[op](v);
          } catch {
            return;
          }
          x = op === 'dp' ? x.toDecimalPlaces(n, rm) : op === 'sd' ? x.toSignificantDigits(n + 1, rm) : x[op](v);
          expect(show(x)).toBe(show(y));
          // One form per value: computed or read from its text, the fields are the same (toEqual holds).
          expect(x).toEqual(new Decimal(show(x)));
        }
      }),
      RUNS,
    );
  });

  it('adds and takes a zero the same, for every form and sign (x ± 0 may be x itself)', () => {
    const seventyDigits = `${'7'.repeat(40)}.${'3'.repeat(30)}`;
    const xs = fc.oneof(value, fc.constantFrom(seventyDigits, `-${seventyDigits}`, '0', '-0', 'NaN', 'Infinity'));
    fc.assert(
      fc.property(xs, fc.constantFrom('0', '-0', 0, -0), (x, zero) => {
        same(() => show(new Decimal(x).plus(zero)), () => show(new Ref(x).plus(zero)));
        same(() => show(new Decimal(x).minus(zero)), () => show(new Ref(x).minus(zero)));
        same(() => show(new Decimal(zero).plus(x)), () => show(new Ref(zero).plus(x)));
      }),
      RUNS,
    );
  });

  it('takes max, min and the statics the same', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 5 }), value, value, (vs, a, b) => {
        same(() => show(Decimal.max(...vs)), () => show(Ref.max(...vs)));
        same(() => show(Decimal.min(...vs)), () => show(Ref.min(...vs)));
        same(() => show(Decimal.add(a, b)), () => show(Ref.add(a, b)));
        same(() => show(Decimal.sub(a, b)), () => show(Ref.sub(a, b)));
        same(() => show(Decimal.div(a, b)), () => show(Ref.div(a, b)));
      }),
      RUNS,
    );
  });

  it('cuts a quotient of short values to significant digits as a decimal.js clone does (the long division in doubles)', () => {
    // Short operands of up to 15 digits and places, every sign, divisors on both sides of 9e14, cut to 1–17 digits.
    const short = fc
      .tuple(fc.boolean(), digits(1, 15), fc.integer({ min: 0, max: 14 }))
      .map(([neg, d, places]) => `${neg ? '-' : ''}${d.length > places ? `${d.slice(0, d.length - places)}.${d.slice(d.length - places) || '0'}` : `0.${d.padStart(places, '0')}`}`);
    fc.assert(
      fc.property(short, short, fc.integer({ min: 1, max: 17 }), (a, b, sd) => {
        const Clone = Ref.clone({ precision: sd, rounding: Base.ROUND_DOWN });
        same(() => show(Decimal.quotient(a, b, sd, Decimal.ROUND_DOWN)), () => show(Clone.div(a, b)));
      }),
      { seed: 20261206, numRuns: 20_000 },
    );
  });

  it('divides to a precision and rounding as a decimal.js clone of them does', () => {
    fc.assert(
      fc.property(value, value, fc.integer({ min: 1, max: 60 }), rounding, (a, b, sd, rm) => {
        const Clone = Ref.clone({ precision: sd, rounding: rm });
        same(() => show(Decimal.quotient(a, b, sd, rm)), () => show(Clone.div(a, b)));
        // What comes back is money's decimal again: the next operation rounds at 60 digits, half-even.
        same(() => show(Decimal.quotient(a, b, sd, rm).times(b).plus(a)), () => show(new Ref(Clone.div(a, b)).times(b).plus(a)));
      }),
      RUNS,
    );
  });

  it('does the rare operations through decimal.js', () => {
    const x = new Decimal('2');
    expect(x.sqrt().toString()).toBe(new Ref(2).sqrt().toString());
    expect(new Decimal('100').log(10).toString()).toBe('2');
    expect(new Decimal('1').exp().toString()).toBe(new Ref(1).exp().toString());
    expect(new Decimal('1.5').pow(2).toString()).toBe('2.25');
    expect(Decimal.quotient('10', '3', 16, Decimal.ROUND_DOWN).toString()).toBe('3.333333333333333');
    expect(Decimal.quotient('2', '3', 60, Decimal.ROUND_UP).toString()).toBe(Ref.clone({ precision: 60, rounding: Ref.ROUND_UP }).div(2, 3).toString());
  });

  it('is exact where doubles drift, and prints JSON as decimal.js does', () => {
    expect(new Decimal('0.1').plus('0.2').toString()).toBe('0.3');
    expect(new Decimal('57953.61').plus('57953.62').div(2).toString()).toBe('57953.615');
    expect(JSON.stringify({ a: new Decimal('-0.00000001') })).toBe('{"a":"-0.00000001"}');
    expect(new Decimal('1').div(3).times(3).toString()).toBe(new Ref(1).div(3).times(3).toString());
  });
});
