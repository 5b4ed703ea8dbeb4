import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { Decimal } from '../../src/core/decimal.js';
import { matchOrder, settle, type Holdings, type OrderTerms } from '../../src/core/trading/matching/match.js';
import { TWO_LEVEL_BOOK as BOOK } from '../helpers/two-level-book.js';

/**
 * The pure matcher on an in-memory ledger, as a backtest will call it: no database, no clock. Rates:
 * spot taker 0.1 %, maker 0.08 %; perpetual taker 0.05 %.
 */
const SPOT = { base: 'BTC', quote: 'USDT', marketType: 'spot' as const };
const PERP = { base: 'BTC', quote: 'USDT', marketType: 'perpetual' as const };
const d = (v: string | number) => new Decimal(v);
const s = (v: Decimal | null | undefined) => (v == null ? null : v.toString());

function holdings(balances: Record<string, [string, string]>, positions: Holdings['positions'] = new Map()): Holdings {
  return { balances: new Map(Object.entries(balances).map(([a, [t, l]]) => [a, { total: d(t), locked: d(l) }])), positions, leverageSetting: 1 };
}

function order(o: Partial<OrderTerms>): OrderTerms {
  return { side: 'buy', orderType: 'market', amount: d(1), price: null, positionAction: null, leverage: null, tradingPair: 'BTC-USDT', ...o };
}

describe('matchOrder', () => {
  it('a spot market buy walks the asks and pays the taker fee on each level', () => {
    const m = matchOrder(order({ amount: d(2) }), SPOT, BOOK, holdings({ USDT: ['1000', '0'] }), new Map());
    expect(m.status).toBe('filled');
    expect(m.fills.map((f) => [s(f.price), s(f.amount), s(f.fee), f.isMaker])).toEqual([
      ['100', '1', '0.1', false],
      ['101', '1', '0.101', false],
    ]);
    expect(s(m.averagePrice)).toBe('100.5');
    expect(m.deltas.map((x) => [x.asset, s(x.total), s(x.locked)])).toEqual([
      ['USDT', '-201.201', '0'],
      ['BTC', '2', '0'],
    ]);
    expect(m.reserved).toBeNull();
  });

  it('a limit buy below the book rests and holds its price plus the maker fee', () => {
    const m = matchOrder(order({ orderType: 'limit', price: d(98) }), SPOT, BOOK, holdings({ USDT: ['1000', '0'] }), new Map());
    expect(m.status).toBe('open');
    expect(m.fills).toEqual([]);
    expect(m.reserved && [m.reserved.asset, s(m.reserved.amount)]).toEqual(['USDT', '98.0784']);
    expect(m.deltas.map((x) => [x.asset, s(x.total), s(x.locked)])).toEqual([['USDT', '0', '98.0784']]);
  });

  it('refuses what the account cannot pay for, counting funds already locked', () => {
    const h = holdings({ USDT: ['150', '60'] });
    const err = (() => {
      try {
        matchOrder(order({}), SPOT, BOOK, h, new Map());
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).details).toMatchObject({ reason: 'insufficient_funds', asset: 'USDT', available: 90 });
  });

  it('refuses a limit_maker that would take liquidity', () => {
    expect(() => matchOrder(order({ orderType: 'limit_maker', price: d(100) }), SPOT, BOOK, holdings({ USDT: ['1000', '0'] }), new Map())).toThrow(/would take liquidity/);
  });

  it('a market order the book cannot fill is canceled for the rest, with what filled', () => {
    const m = matchOrder(order({ amount: d(10) }), SPOT, BOOK, holdings({ USDT: ['10000', '0'] }), new Map());
    expect(m.status).toBe('canceled');
    expect(s(m.filled)).toBe('6');
    expect(m.errorMessage).toMatch(/held only 6 BTC/);
  });

  it('a perpetual close realises PnL against the entry and releases the margin', () => {
    const open = new Map([['BTC-USDT', { amount: d(1), entryPrice: d(90), margin: d(45), leverage: 2, realizedPnl: d(0) }]]);
    const m = matchOrder(order({ side: 'sell', positionAction: 'close' }), PERP, BOOK, holdings({ USDT: ['1000', '0'] }, open), new Map([['BTC-USDT', d('99.5')]]));
    expect(m.status).toBe('filled');
    // Sold 1 at 99 against an entry of 90: +9, less the 0.0495 taker fee.
    expect(s(m.fills[0]!.realizedPnl)).toBe('9');
    expect(m.deltas.map((x) => [x.asset, s(x.total)])).toEqual([['USDT', '8.9505']]);
    expect(m.position && [s(m.position.amount), s(m.position.margin), s(m.position.realizedPnl), m.position.leverage]).toEqual(['0', '0', '9', 2]);
  });

  it('a close that would reverse the position is refused as bad input', () => {
    const open = new Map([['BTC-USDT', { amount: d(1), entryPrice: d(90), margin: d(45), leverage: 2, realizedPnl: d(0) }]]);
    expect(() => matchOrder(order({ side: 'sell', positionAction: 'close', amount: d(2) }), PERP, BOOK, holdings({ USDT: ['1000', '0'] }, open), new Map([['BTC-USDT', d(99)]]))).toThrow(/must reduce/);
  });
});

describe('settle', () => {
  it('a maker fill of a resting spot sell pays the maker rate', () => {
    const r = settle({ side: 'sell', tradingPair: 'BTC-USDT' }, SPOT, holdings({}), [{ price: d(102), amount: d('0.5') }], true, 1);
    expect(r.fills.map((f) => [s(f.fee), f.isMaker])).toEqual([['0.0408', true]]);
    expect(r.deltas.map((x) => [x.asset, s(x.total)])).toEqual([
      ['BTC', '-0.5'],
      ['USDT', '50.9592'],
    ]);
  });
});
