import { describe, expect, it } from 'vitest';
import { SimVenue } from '../../../src/core/backtest/sim-venue.js';
import { Decimal } from '../../../src/core/decimal.js';
import type { OrderRequest, OrderUpdate } from '../../../src/core/strategy/types.js';
import { btcUsdt } from './helpers.js';

function venue(opts: { slippageBps?: number; base?: string; quote?: string } = {}) {
  const updates: OrderUpdate[] = [];
  const v = new SimVenue({
    connector: 'sim',
    market: btcUsdt,
    makerFee: new Decimal('0.0008'),
    takerFee: new Decimal('0.001'),
    slippageBps: opts.slippageBps ?? 0,
    balances: { base: new Decimal(opts.base ?? '1'), quote: new Decimal(opts.quote ?? '10000') },
    onUpdate: (u) => updates.push(u),
  });
  v.setPoint(1000, 100);
  return { v, updates };
}

let seq = 0;
const order = (o: Partial<OrderRequest> & Pick<OrderRequest, 'side' | 'type'>): OrderRequest => ({
  clientOrderId: `c${++seq}`,
  connector: 'sim',
  tradingPair: 'BTC-USDT',
  amount: new Decimal('1'),
  ...o,
});

const plain = (u: OrderUpdate) => ({
  state: u.state,
  filled: u.filled.toString(),
  averagePrice: u.averagePrice?.toString() ?? null,
  fees: u.fees.toString(),
  fills: u.newFills.map((f) => ({ price: f.price.toString(), amount: f.amount.toString(), fee: f.fee.toString(), isMaker: f.isMaker, timestamp: f.timestamp })),
  code: u.code,
});

describe('SimVenue', () => {
  it('fills a market buy at the path price plus slippage, taker fee on top', () => {
    const { v, updates } = venue({ slippageBps: 10 });
    v.submit(order({ side: 'buy', type: 'market' }));
    // 100 × 1.001 = 100.1; fee 100.1 × 0.001 = 0.1001
    expect(plain(updates[0]!)).toEqual({
      state: 'filled',
      filled: '1',
      averagePrice: '100.1',
      fees: '0.1001',
      fills: [{ price: '100.1', amount: '1', fee: '0.1001', isMaker: false, timestamp: 1000 }],
      code: undefined,
    });
    expect(v.quote.total.toString()).toBe('9899.7999');
    expect(v.base.total.toString()).toBe('2');
  });

  it('fills a market sell at the path price minus slippage, fee out of the proceeds', () => {
    const { v, updates } = venue({ slippageBps: 10 });
    v.submit(order({ side: 'sell', type: 'market', amount: new Decimal('0.5') }));
    // 0.5 × 99.9 = 49.95; fee 0.04995
    expect(plain(updates[0]!).fills[0]).toMatchObject({ price: '99.9', fee: '0.04995' });
    expect(v.quote.total.toString()).toBe('10049.90005');
    expect(v.base.total.toString()).toBe('0.5');
  });

  it('rests a limit buy, holds back its quote, and fills it at its price as maker when the path reaches it', () => {
    const { v, updates } = venue();
    v.submit(order({ side: 'buy', type: 'limit', price: new Decimal('99') }));
    expect(updates[0]!.state).toBe('open');
    // 99 + 0.0792 maker fee held back
    expect(v.quote.locked.toString()).toBe('99.0792');
    v.setPoint(2000, 99.5);
    expect(updates).toHaveLength(1);
    v.setPoint(3000, 98);
    expect(plain(updates[1]!)).toMatchObject({ state: 'filled', averagePrice: '99', fees: '0.0792', fills: [{ price: '99', isMaker: true, timestamp: 3000 }] });
    expect(v.quote.locked.toString()).toBe('0');
    expect(v.quote.total.toString()).toBe('9900.9208');
  });

  it('fills a limit that crosses on arrival at once, as taker, at the better price', () => {
    const { v, updates } = venue();
    v.submit(order({ side: 'buy', type: 'limit', price: new Decimal('101') }));
    expect(plain(updates[0]!)).toMatchObject({ state: 'filled', averagePrice: '100', fees: '0.1', fills: [{ isMaker: false }] });
  });

  it('rejects a limit_maker that would take; one at the path price rests at the touch and fills there as maker', () => {
    const { v, updates } = venue();
    v.submit(order({ side: 'buy', type: 'limit_maker', price: new Decimal('100.5') }));
    expect(updates[0]).toMatchObject({ state: 'rejected', code: 'UPSTREAM_REJECTED' });
    v.submit(order({ side: 'sell', type: 'limit_maker', price: new Decimal('100.5') }));
    expect(updates[1]!.state).toBe('open');
    v.submit(order({ side: 'buy', type: 'limit_maker', price: new Decimal('100') }));
    expect(updates[2]!.state).toBe('open');
    v.setPoint(2000, 100);
    expect(plain(updates[3]!)).toMatchObject({ state: 'filled', averagePrice: '100', fills: [{ price: '100', isMaker: true, timestamp: 2000 }] });
  });

  it('rejects what the balance cannot pay with INSUFFICIENT_BALANCE, counting what resting orders hold', () => {
    const { v, updates } = venue({ base: '1', quote: '150' });
    v.submit(order({ side: 'buy', type: 'market', amount: new Decimal('2') }));
    expect(updates[0]).toMatchObject({ state: 'rejected', code: 'INSUFFICIENT_BALANCE' });
    v.submit(order({ side: 'sell', type: 'market', amount: new Decimal('1.5') }));
    expect(updates[1]).toMatchObject({ state: 'rejected', code: 'INSUFFICIENT_BALANCE' });
    v.submit(order({ side: 'buy', type: 'limit', price: new Decimal('90') }));
    expect(updates[2]!.state).toBe('open');
    // 90.072 of the 150 is held back: 0.6 at market (≈ 60.06) no longer fits
    v.submit(order({ side: 'buy', type: 'market', amount: new Decimal('0.6') }));
    expect(updates[3]).toMatchObject({ state: 'rejected', code: 'INSUFFICIENT_BALANCE' });
    expect(v.quote.total.toString()).toBe('150');
  });

  it('floors the amount to the market step and refuses what falls under the minimum notional', () => {
    const { v, updates } = venue();
    v.submit(order({ side: 'buy', type: 'market', amount: new Decimal('0.123456789') }));
    expect(updates[0]!.filled.toString()).toBe('0.12345');
    v.submit(order({ side: 'buy', type: 'market', amount: new Decimal('0.01') }));
    expect(updates[1]).toMatchObject({ state: 'rejected', code: 'VALIDATION_FAILED' });
  });

  it('cancels a resting order and frees what it held', () => {
    const { v, updates } = venue();
    const o = order({ side: 'sell', type: 'limit', price: new Decimal('110'), amount: new Decimal('0.5') });
    v.submit(o);
    expect(v.base.locked.toString()).toBe('0.5');
    v.cancel('sim', 'BTC-USDT', o.clientOrderId);
    expect(updates[1]).toMatchObject({ clientOrderId: o.clientOrderId, state: 'canceled' });
    expect(v.base.locked.toString()).toBe('0');
    v.setPoint(2000, 120);
    expect(updates).toHaveLength(2);
  });

  it('refuses a reused order id and another market', () => {
    const { v, updates } = venue();
    const o = order({ side: 'buy', type: 'market', amount: new Decimal('0.1') });
    v.submit(o);
    v.submit(o);
    v.submit(order({ side: 'buy', type: 'market', tradingPair: 'ETH-USDT' }));
    expect(updates.map((u) => u.code)).toEqual([undefined, 'DUPLICATE_ORDER', 'NOT_SUPPORTED']);
  });
});

describe('SimVenue on a perpetual market', () => {
  function perpVenue(quote = '1000') {
    const updates: OrderUpdate[] = [];
    const v = new SimVenue({
      connector: 'sim_perpetual',
      market: { ...btcUsdt, market_type: 'perpetual' },
      makerFee: new Decimal('0.0002'),
      takerFee: new Decimal('0.0005'),
      slippageBps: 0,
      balances: { base: new Decimal('0'), quote: new Decimal(quote) },
      onUpdate: (u) => updates.push(u),
    });
    v.setPoint(1000, 100);
    return { v, updates };
  }
  const perp = (o: Partial<OrderRequest> & Pick<OrderRequest, 'side' | 'type'>) => order({ connector: 'sim_perpetual', leverage: 10, positionAction: 'open', ...o });

  it('opens a short with no base, holding margin; closing it realises the move in quote, both fees paid', () => {
    const { v, updates } = perpVenue();
    v.submit(perp({ side: 'sell', type: 'market', amount: new Decimal('2') }));
    // notional 200, margin 200 / 10 = 20, taker fee 200 × 0.0005 = 0.1
    expect(plain(updates[0]!)).toMatchObject({ state: 'filled', averagePrice: '100', fees: '0.1' });
    expect(v.quote.total.toString()).toBe('999.9');
    expect(v.base.total.toString()).toBe('0');
    expect(v.perp!.short).toMatchObject({ amount: new Decimal('-2'), entryPrice: new Decimal('100'), margin: new Decimal('20') });
    expect(v.positionNum()).toBe(-2);
    // marked at 95 the short is up (100 − 95) × 2 = 10, less the fee
    expect(v.pnlNum(95)).toBeCloseTo(9.9, 12);
    v.setPoint(2000, 95);
    v.submit(perp({ side: 'buy', type: 'market', amount: new Decimal('2'), positionAction: 'close' }));
    // realised 10, fee 190 × 0.0005 = 0.095: 999.9 + 10 − 0.095
    expect(v.quote.total.toString()).toBe('1009.805');
    expect(v.pnl(new Decimal('95')).toString()).toBe('9.805');
    expect(v.perp!.short.margin.toString()).toBe('0');
  });

  it('keeps a long and a short apart: closing one leaves the other, and a close larger than its side is refused', () => {
    const { v, updates } = perpVenue();
    v.submit(perp({ side: 'buy', type: 'market', amount: new Decimal('1') }));
    v.submit(perp({ side: 'sell', type: 'market', amount: new Decimal('1') }));
    expect(v.positionNum()).toBe(0);
    expect(v.perp!.margin().toString()).toBe('20');
    v.submit(perp({ side: 'sell', type: 'market', amount: new Decimal('1.5'), positionAction: 'close' }));
    expect(updates[2]).toMatchObject({ state: 'rejected', code: 'VALIDATION_FAILED' });
    expect(updates[2]!.reason).toContain('exceeds the long position (1)');
    v.setPoint(2000, 110);
    v.submit(perp({ side: 'sell', type: 'market', amount: new Decimal('1'), positionAction: 'close' }));
    expect(updates[3]!.state).toBe('filled');
    expect(v.perp!.long.amount.isZero()).toBe(true);
    expect(v.perp!.short).toMatchObject({ amount: new Decimal('-1'), entryPrice: new Decimal('100') });
    // fees 0.05 + 0.05 + 0.055; long realised +10; short marked at 110: −10
    expect(v.pnl(new Decimal('110')).toString()).toBe('-0.155');
  });

  it('refuses an open the free margin cannot hold, counting what resting opens hold back and open losses', () => {
    const { v, updates } = perpVenue('30');
    v.submit(perp({ side: 'buy', type: 'limit', price: new Decimal('90'), amount: new Decimal('2') }));
    // margin 180 / 10 = 18 plus maker fee 0.036 held back
    expect(v.quote.locked.toString()).toBe('18.036');
    v.submit(perp({ side: 'sell', type: 'market', amount: new Decimal('1') }));
    expect(updates[1]!.state).toBe('filled');
    v.setPoint(2000, 100.5);
    // free: 30 − 0.05 − 18.036 − 10 (short margin) − 0.5 (short down 0.5) = 1.414; 1 more short needs 10.05 + 0.05025
    v.submit(perp({ side: 'sell', type: 'market', amount: new Decimal('1') }));
    expect(updates[2]).toMatchObject({ state: 'rejected', code: 'INSUFFICIENT_BALANCE' });
    expect(updates[2]!.reason).toContain('1.414');
  });

  it('cancels a resting close that would exceed its side by the time the price reaches it', () => {
    const { v, updates } = perpVenue();
    v.submit(perp({ side: 'buy', type: 'market', amount: new Decimal('1') }));
    v.submit(perp({ side: 'sell', type: 'limit', price: new Decimal('105'), amount: new Decimal('1'), positionAction: 'close' }));
    expect(updates[1]!.state).toBe('open');
    expect(v.quote.locked.toString()).toBe('0');
    v.submit(perp({ side: 'sell', type: 'market', amount: new Decimal('1'), positionAction: 'close' }));
    expect(updates[2]!.state).toBe('filled');
    v.setPoint(2000, 106);
    expect(updates[3]).toMatchObject({ state: 'canceled', filled: new Decimal(0) });
    expect(updates[3]!.reason).toContain('exceeds the long position (0)');
  });
});
