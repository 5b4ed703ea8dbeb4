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

  it('rejects a limit_maker that would take', () => {
    const { v, updates } = venue();
    v.submit(order({ side: 'buy', type: 'limit_maker', price: new Decimal('100') }));
    expect(updates[0]).toMatchObject({ state: 'rejected', code: 'UPSTREAM_REJECTED' });
    v.submit(order({ side: 'sell', type: 'limit_maker', price: new Decimal('100.5') }));
    expect(updates[1]!.state).toBe('open');
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
