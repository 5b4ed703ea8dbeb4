import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/decimal.js';
import { highEdge, lowEdge, nextDouble } from '../../../src/core/strategy/price-edge.js';

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
});
