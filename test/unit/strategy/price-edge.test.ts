import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/decimal.js';
import { edgeAbove, edgeBelow, highEdge, lowEdge, nextDouble } from '../../../src/core/strategy/price-edge.js';

const q = (p: number) => new Decimal(String(p));

describe('price edges', () => {
  it('is the barrier itself when it is a double', () => {
    expect(lowEdge(new Decimal('98'), (p) => p.lte(98))).toBe(98);
    expect(highEdge(new Decimal('102'), (p) => p.gte(102))).toBe(102);
  });

  it('steps off the barrier when the test is strict', () => {
    expect(lowEdge(new Decimal('98'), (p) => p.lt(98))).toBe(nextDouble(98, -1));
    expect(highEdge(new Decimal('102'), (p) => p.gt(102))).toBe(nextDouble(102, 1));
  });

  it('follows the test, not the rounding of the barrier: the edge fires and the next double does not', () => {
    // A PnL test as an executor runs it: (p − entry) / entry <= −0.03, divided at 60 digits.
    const entry = new Decimal('43251.370000000000000123456789');
    const sl = new Decimal('-0.03');
    const fires = (p: Decimal) => p.minus(entry).div(entry).lte(sl);
    const low = lowEdge(entry.times(1.03 - 0.06), fires);
    expect(fires(q(low))).toBe(true);
    expect(fires(q(nextDouble(low, 1)))).toBe(false);
  });

  it('edgeAbove and edgeBelow give what highEdge and lowEdge give for the comparison they stand for', () => {
    // Levels as executors make them: an entry times a factor, 60 digits, rarely a double.
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const levels = [new Decimal('98'), new Decimal('0.1'), new Decimal('1e-7')];
    for (let i = 0; i < 300; i++) levels.push(new Decimal(String(rnd() * 10 ** Math.floor(rnd() * 10 - 3))).times(new Decimal('1.0300000000000000000001')));
    // And levels that are a double's own shortest form, or a few places (a price, a price times 1.02).
    for (let i = 0; i < 200; i++) {
      const x = rnd() * 10 ** Math.floor(rnd() * 10 - 3);
      levels.push(new Decimal(String(x)), new Decimal(x.toFixed(2)), new Decimal(x.toFixed(2)).times('1.02'));
    }
    for (const level of levels) {
      expect(edgeAbove(level, false)).toBe(highEdge(level, (p) => p.gte(level)));
      expect(edgeAbove(level, true)).toBe(highEdge(level, (p) => p.gt(level)));
      expect(edgeBelow(level, false)).toBe(lowEdge(level, (p) => p.lte(level)));
      expect(edgeBelow(level, true)).toBe(lowEdge(level, (p) => p.lt(level)));
      // The edge fires and its neighbour outside does not.
      expect(q(edgeAbove(level, false)).gte(level)).toBe(true);
      expect(q(nextDouble(edgeAbove(level, false), -1)).gte(level)).toBe(false);
      expect(q(edgeBelow(level, true)).lt(level)).toBe(true);
      expect(q(nextDouble(edgeBelow(level, true), 1)).lt(level)).toBe(false);
    }
  });

  it('nextDouble steps one unit in the last place, across the 32-bit word of the bits, either sign', () => {
    const bits = (hi: number, lo: number) => new Float64Array(new Uint32Array([lo, hi]).buffer)[0]!;
    expect(nextDouble(1, 1)).toBe(1 + 2 ** -52);
    expect(nextDouble(1, -1)).toBe(1 - 2 ** -53);
    expect(nextDouble(-1, -1)).toBe(-(1 + 2 ** -52));
    expect(nextDouble(0, 1)).toBe(Number.MIN_VALUE);
    expect(nextDouble(Number.MIN_VALUE, -1)).toBe(0);
    // The low word full: a step up carries into the high word, and a step down from there borrows back.
    expect(nextDouble(bits(0x40000000, 0xffffffff), 1)).toBe(bits(0x40000001, 0));
    expect(nextDouble(bits(0x40000001, 0), -1)).toBe(bits(0x40000000, 0xffffffff));
    expect(nextDouble(bits(0xc0000000, 0xffffffff), -1)).toBe(bits(0xc0000001, 0));
    for (const x of [42123.45, 0.1, 1e-300, 123456789.123]) {
      expect(nextDouble(nextDouble(x, 1), -1)).toBe(x);
      expect(nextDouble(x, 1)).toBeGreaterThan(x);
      expect(nextDouble(x, -1)).toBeLessThan(x);
    }
  });
});
