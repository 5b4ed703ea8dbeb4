import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { RunningSum } from '../../src/core/running-sum.js';

describe('RunningSum', () => {
  it('equals the plain decimal sum across the short form limit, whatever the places and signs', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const sum = new RunningSum();
    let plain = new Decimal(0);
    const seen: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const places = Math.floor(rand() * 12);
      // Now and then a term of many digits, which the partial sum cannot take in the short form.
      const x = new Decimal(i % 97 === 0 ? `${(rand() * 100).toFixed(2)}0000000000000001` : (rand() * 20_000 - 4_000).toFixed(places));
      if (i % 3 === 0) {
        sum.subtract(x);
        plain = plain.minus(x);
      } else {
        sum.add(x);
        plain = plain.plus(x);
      }
      expect(Math.abs(sum.number - plain.toNumber())).toBeLessThanOrEqual(Math.abs(plain.toNumber()) * 1e-15 + 1e-300);
      if (i % 2_500 === 0) seen.push(sum.value.toString());
      expect(i % 2_500 !== 0 || sum.value.eq(plain)).toBe(true);
    }
    expect(plain.isShort()).toBe(false);
    expect(sum.value.toString()).toBe(plain.toString());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('is zero with nothing added', () => {
    expect(new RunningSum().value.toString()).toBe('0');
  });
});
