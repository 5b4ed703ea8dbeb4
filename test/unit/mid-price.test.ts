import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, midPrice } from '../../src/core/decimal.js';

/** Decimal places of a number as JSON prints it (exponent form included). */
const decimals = (n: number) => new Decimal(String(n)).decimalPlaces();

describe('midPrice', () => {
  it('is exact where the float average is not', () => {
    expect((57953.61 + 57953.62) / 2).toBe(57953.615000000005);
    expect(midPrice(57953.61, 57953.62).toNumber()).toBe(57953.615);
    expect(midPrice(0.1, 0.2).toNumber()).toBe(0.15);
    expect(midPrice(1e-8, 3e-8).toFixed()).toBe('0.00000002');
  });

  it('has at most one more decimal than the prices it averages', () => {
    const price = fc.tuple(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 8 })).map(([units, places]) => Number((units / 10 ** places).toFixed(places)));
    fc.assert(
      fc.property(price, price, (bid, ask) => {
        const mid = midPrice(bid, ask).toNumber();
        expect(decimals(mid)).toBeLessThanOrEqual(Math.max(decimals(bid), decimals(ask)) + 1);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });
});
