import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { applyFill, unrealizedPnl, type PositionState } from '../../src/core/trading/matching/position-math.js';

const D = (v: string | number) => new Decimal(String(v));
const pos = (amount: string | number, entry: string | number, margin: string | number): PositionState => ({ amount: D(amount), entryPrice: D(entry), margin: D(margin) });
const FLAT = pos(0, 0, 0);

/** Compares a position as exact decimal strings, so that 105 and 105.000… are the same and 105.0000001 is not. */
const view = (p: PositionState) => ({ amount: p.amount.toString(), entry: p.entryPrice.toString(), margin: p.margin.toString() });

describe('applyFill: opening and adding', () => {
  it('opens a long from flat at the fill price, holding notional / leverage as margin', () => {
    const r = applyFill(FLAT, D(1), D(100), 10);
    expect(view(r.next)).toEqual({ amount: '1', entry: '100', margin: '10' });
    expect(r.realizedPnl.isZero()).toBe(true);
  });

  it('opens a short from flat (negative amount), margin on the absolute size', () => {
    const r = applyFill(FLAT, D(-2), D(50), 4);
    expect(view(r.next)).toEqual({ amount: '-2', entry: '50', margin: '25' });
    expect(r.realizedPnl.isZero()).toBe(true);
  });

  it('averages the entry when adding on the same side and adds margin for the new part only', () => {
    const r = applyFill(pos(1, 100, 10), D(1), D(110), 10);
    expect(view(r.next)).toEqual({ amount: '2', entry: '105', margin: '21' });
    expect(r.realizedPnl.isZero()).toBe(true);
  });

  it('averages a short the same way', () => {
    const r = applyFill(pos(-1, 200, 20), D(-3), D(100), 10);
    // (1·200 + 3·100) / 4 = 125
    expect(view(r.next)).toEqual({ amount: '-4', entry: '125', margin: '50' });
  });

  it('keeps an averaged entry to 18 places, rounded half-even, never as a float', () => {
    const r = applyFill(pos(1, 100, 100), D(2), D(101), 1);
    expect(r.next.entryPrice.toString()).toBe('100.666666666666666667');
    expect(r.next.margin.toString()).toBe('302');
  });
});

describe('applyFill: reducing realises PnL and releases margin', () => {
  it('a partial reduce of a long realises (price − entry) × closed and releases its share of margin', () => {
    const r = applyFill(pos(2, 105, 21), D('-0.5'), D(120), 10);
    expect(r.realizedPnl.toString()).toBe('7.5');
    expect(view(r.next)).toEqual({ amount: '1.5', entry: '105', margin: '15.75' });
  });

  it('a partial reduce of a short realises (entry − price) × closed', () => {
    const r = applyFill(pos(-2, 100, 20), D(1), D(90), 10);
    expect(r.realizedPnl.toString()).toBe('10');
    expect(view(r.next)).toEqual({ amount: '-1', entry: '100', margin: '10' });
  });

  it('a losing reduce realises a negative PnL', () => {
    const r = applyFill(pos(-1, 100, 10), D('0.25'), D(104), 10);
    expect(r.realizedPnl.toString()).toBe('-1');
    expect(view(r.next)).toEqual({ amount: '-0.75', entry: '100', margin: '7.5' });
  });

  it('closing the whole position releases all of its margin and resets the entry', () => {
    const r = applyFill(pos(1, 100, 10), D(-1), D(95), 10);
    expect(r.realizedPnl.toString()).toBe('-5');
    expect(view(r.next)).toEqual({ amount: '0', entry: '0', margin: '0' });
  });

  it('a full close releases exactly the margin held, even when it does not divide evenly', () => {
    const start = pos(3, 100, 10);
    const a = applyFill(start, D(-1), D(100), 30);
    expect(a.next.margin.toString()).toBe('6.666666666666666667');
    const b = applyFill(a.next, D(-2), D(100), 30);
    expect(view(b.next)).toEqual({ amount: '0', entry: '0', margin: '0' });
    // Released over the two steps: exactly what was held.
    expect(start.margin.minus(a.next.margin).plus(a.next.margin.minus(b.next.margin)).toString()).toBe('10');
  });
});

describe('applyFill: flipping through zero', () => {
  it('closes the long (realising its PnL) and opens the rest short at the fill price with fresh margin', () => {
    const r = applyFill(pos(1, 100, 10), D(-3), D(110), 5);
    expect(r.realizedPnl.toString()).toBe('10');
    expect(view(r.next)).toEqual({ amount: '-2', entry: '110', margin: '44' });
  });

  it('closes a short and opens a long', () => {
    const r = applyFill(pos(-2, 100, 40), D(5), D(80), 2);
    expect(r.realizedPnl.toString()).toBe('40');
    expect(view(r.next)).toEqual({ amount: '3', entry: '80', margin: '120' });
  });
});

describe('unrealizedPnl', () => {
  it('is (mark − entry) × signed amount', () => {
    expect(unrealizedPnl(pos(2, 100, 0), D(90)).toString()).toBe('-20');
    expect(unrealizedPnl(pos(-2, 100, 0), D(90)).toString()).toBe('20');
    expect(unrealizedPnl(FLAT, D(12345)).toString()).toBe('0');
  });
});

describe('applyFill properties', () => {
  const qty = fc.integer({ min: -500, max: 500 }).filter((n) => n !== 0).map((n) => D(n).div(100));
  const price = fc.integer({ min: 1_000, max: 200_000 }).map((n) => D(n).div(100));
  const fills = fc.array(fc.tuple(qty, price), { minLength: 1, maxLength: 25 });

  it('cash flow of the fills equals realized + unrealized PnL at any mark (to the 18-place rounding)', () => {
    fc.assert(
      fc.property(fills, price, fc.integer({ min: 1, max: 125 }), (seq, mark, lev) => {
        let p = FLAT;
        let realized = D(0);
        let cash = D(0);
        for (const [q, px] of seq) {
          const r = applyFill(p, q, px, lev);
          realized = realized.plus(r.realizedPnl);
          cash = cash.minus(q.times(px));
          p = r.next;
        }
        const net = seq.reduce((s, [q]) => s.plus(q), D(0));
        expect(p.amount.toString()).toBe(net.toString());
        const marked = cash.plus(p.amount.times(mark));
        const pnl = realized.plus(unrealizedPnl(p, mark));
        expect(marked.minus(pnl).abs().lte(D('1e-12')), `${marked} vs ${pnl}`).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('margin is never negative and is zero exactly when the position is flat', () => {
    fc.assert(
      fc.property(fills, fc.integer({ min: 1, max: 125 }), (seq, lev) => {
        let p = FLAT;
        for (const [q, px] of seq) {
          p = applyFill(p, q, px, lev).next;
          expect(p.margin.isNegative()).toBe(false);
          expect(p.margin.isZero()).toBe(p.amount.isZero());
          if (p.amount.isZero()) expect(p.entryPrice.isZero()).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
