import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { crosses, toLevels, walkBook, type Level, type Walk } from '../../src/core/trading/matching/book-walk.js';

const D = (v: string | number) => new Decimal(String(v));
const levels = (...l: Array<[number | string, number | string]>): Level[] => l.map(([p, a]) => ({ price: D(p), amount: D(a) }));
const execs = (w: Walk) => w.executions.map((e) => [e.price.toString(), e.amount.toString()]);

const ASKS = levels([100, 1], [101, 2], [102, 3]);
const BIDS = levels([99, 1], [98, 2], [97, 3]);

describe('walkBook without a limit', () => {
  it('takes levels best first, each at its own price, until the amount is filled', () => {
    const w = walkBook(ASKS, D('2.5'), 'buy');
    expect(execs(w)).toEqual([
      ['100', '1'],
      ['101', '1.5'],
    ]);
    expect(w.filled.toString()).toBe('2.5');
    expect(w.notional.toString()).toBe('251.5');
  });

  it('stops at the end of the book: filled is what the book held', () => {
    const w = walkBook(ASKS, D(10), 'buy');
    expect(w.filled.toString()).toBe('6');
    expect(w.notional.toString()).toBe(String(100 + 202 + 306));
    expect(execs(w)).toHaveLength(3);
  });

  it('walks bids downwards for a sell', () => {
    const w = walkBook(BIDS, D(2), 'sell');
    expect(execs(w)).toEqual([
      ['99', '1'],
      ['98', '1'],
    ]);
    expect(w.notional.toString()).toBe('197');
  });

  it('an empty book or a zero amount fills nothing', () => {
    expect(walkBook([], D(1), 'buy')).toMatchObject({ executions: [] });
    expect(walkBook([], D(1), 'buy').filled.toString()).toBe('0');
    const zero = walkBook(ASKS, D(0), 'buy');
    expect(zero.executions).toEqual([]);
    expect(zero.notional.toString()).toBe('0');
  });

  it('skips levels with no size', () => {
    const w = walkBook(levels([100, 0], [101, 1]), D(1), 'buy');
    expect(execs(w)).toEqual([['101', '1']]);
  });

  it('is exact in decimals (no float drift over many small levels)', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({ price: D('0.1').plus(D('0.01').times(i)), amount: D('0.1') }));
    const w = walkBook(many, D(1), 'buy');
    expect(w.filled.toString()).toBe('1');
    expect(w.notional.toString()).toBe('0.145');
  });
});

describe('walkBook with a limit', () => {
  it('a buy never takes a level above its limit', () => {
    const w = walkBook(ASKS, D(5), 'buy', D(101));
    expect(execs(w)).toEqual([
      ['100', '1'],
      ['101', '2'],
    ]);
    expect(w.filled.toString()).toBe('3');
  });

  it('a sell never takes a level below its limit', () => {
    const w = walkBook(BIDS, D(5), 'sell', D('98.5'));
    expect(execs(w)).toEqual([['99', '1']]);
  });

  it('a limit on the wrong side of the touch takes nothing', () => {
    expect(walkBook(ASKS, D(1), 'buy', D('99.99')).executions).toEqual([]);
    expect(walkBook(BIDS, D(1), 'sell', D('99.01')).executions).toEqual([]);
  });

  it('a limit exactly at a level includes that level', () => {
    expect(walkBook(ASKS, D(1), 'buy', D(100)).filled.toString()).toBe('1');
    expect(walkBook(BIDS, D(1), 'sell', D(99)).filled.toString()).toBe('1');
  });
});

describe('crosses', () => {
  it('a buy crosses at or above the best ask, a sell at or below the best bid', () => {
    expect(crosses('buy', D(100), D(99), D(100))).toBe(true);
    expect(crosses('buy', D('99.99'), D(99), D(100))).toBe(false);
    expect(crosses('sell', D(99), D(99), D(100))).toBe(true);
    expect(crosses('sell', D('99.01'), D(99), D(100))).toBe(false);
  });

  it('nothing crosses an empty side', () => {
    expect(crosses('buy', D(1e9), D(99), undefined)).toBe(false);
    expect(crosses('sell', D(0.0001), undefined, D(100))).toBe(false);
  });
});

describe('toLevels', () => {
  it('converts JSON numbers through their shortest decimal text, not their binary value', () => {
    const [l] = toLevels([{ price: 0.1, amount: 0.3 }]);
    expect(l!.price.toString()).toBe('0.1');
    expect(l!.amount.toString()).toBe('0.3');
  });
});

describe('walkBook properties', () => {
  // A well-formed side: strictly monotonic prices (ascending asks or descending bids), positive sizes.
  const side = (s: 'buy' | 'sell') =>
    fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 10_000 })), { minLength: 0, maxLength: 15 }).map((steps) => {
      let px = s === 'buy' ? 10_000 : 1_000_000;
      return steps.map(([gap, size]) => {
        px = s === 'buy' ? px + gap : px - gap;
        return { price: D(px).div(100), amount: D(size).div(1000) };
      });
    });
  const sideAndOrder = fc.constantFrom<'buy' | 'sell'>('buy', 'sell').chain((s) =>
    fc.record({ s: fc.constant(s), book: side(s), amount: fc.integer({ min: 1, max: 100_000 }).map((n) => D(n).div(1000)), limit: fc.option(fc.integer({ min: 9_000, max: 1_100_000 }).map((n) => D(n).div(100))) }),
  );

  it('never beats the book, never passes the limit, never overfills, and sums exactly', () => {
    fc.assert(
      fc.property(sideAndOrder, ({ s, book, amount, limit }) => {
        const w = walkBook(book, amount, s, limit ?? undefined);
        expect(w.filled.lte(amount)).toBe(true);
        let sum = D(0);
        let notional = D(0);
        w.executions.forEach((e, i) => {
          // Execution i is level i, at the level's own price and at most its size.
          expect(e.price.eq(book[i]!.price)).toBe(true);
          expect(e.amount.gt(0) && e.amount.lte(book[i]!.amount)).toBe(true);
          if (limit) expect(s === 'buy' ? e.price.lte(limit) : e.price.gte(limit)).toBe(true);
          sum = sum.plus(e.amount);
          notional = notional.plus(e.amount.times(e.price));
        });
        expect(sum.eq(w.filled)).toBe(true);
        expect(notional.eq(w.notional)).toBe(true);
        // It stops short of the amount only when the book (up to the limit) is exhausted.
        if (w.filled.lt(amount)) {
          const reachable = book.filter((l) => !limit || (s === 'buy' ? l.price.lte(limit) : l.price.gte(limit)));
          expect(w.filled.eq(reachable.reduce((a, l) => a.plus(l.amount), D(0)))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
