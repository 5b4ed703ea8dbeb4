import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { Decimal } from '../../src/core/decimal.js';
import type { Market } from '../../src/core/exchange/types.js';
import { applyRules, floorTo, priceToTick } from '../../src/core/trading/matching/quantize.js';

const D = (v: string | number) => new Decimal(String(v));

const MARKET: Market = {
  trading_pair: 'BTC-USDT',
  base: 'BTC',
  quote: 'USDT',
  market_type: 'spot',
  active: true,
  rules: {
    min_order_size: '0.0001',
    max_order_size: '100',
    min_price_increment: '0.01',
    min_base_amount_increment: '0.00001',
    min_notional_size: '5',
    max_leverage: null,
    supported_order_types: ['market', 'limit', 'limit_maker'],
  },
};

/** Runs applyRules and returns the AppError it throws. */
function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected applyRules to refuse the order');
}

describe('floorTo', () => {
  it('rounds down to a multiple of the step', () => {
    expect(floorTo(D('0.123456'), '0.001').toString()).toBe('0.123');
    expect(floorTo(D('0.1239999'), '0.001').toString()).toBe('0.123');
    expect(floorTo(D('7'), '2').toString()).toBe('6');
  });

  it('keeps an exact multiple unchanged, however the step is written', () => {
    expect(floorTo(D('0.3'), '0.1').toString()).toBe('0.3');
    expect(floorTo(D('1.25'), '0.05').toString()).toBe('1.25');
    expect(floorTo(D('0.00001'), '0.00001').toString()).toBe('0.00001');
  });

  it('leaves the value alone without a usable step', () => {
    expect(floorTo(D('0.123456'), null).toString()).toBe('0.123456');
    expect(floorTo(D('0.123456'), '0').toString()).toBe('0.123456');
  });

  it('never grows an amount', () => {
    for (const v of ['0.99999', '1.00001', '123.456789', '0.000009']) {
      for (const step of ['0.00001', '0.001', '0.1', '1']) expect(floorTo(D(v), step).lte(D(v))).toBe(true);
    }
  });
});

describe('priceToTick', () => {
  it('rounds a buy down and a sell up: never more aggressive than asked', () => {
    expect(priceToTick(D('100.005'), '0.01', 'buy').toString()).toBe('100');
    expect(priceToTick(D('100.005'), '0.01', 'sell').toString()).toBe('100.01');
    expect(priceToTick(D('64999.999'), '0.1', 'buy').toString()).toBe('64999.9');
    expect(priceToTick(D('64999.901'), '0.1', 'sell').toString()).toBe('65000');
  });

  it('keeps a price already on the tick', () => {
    expect(priceToTick(D('100.01'), '0.01', 'buy').toString()).toBe('100.01');
    expect(priceToTick(D('100.01'), '0.01', 'sell').toString()).toBe('100.01');
  });

  it('leaves the price alone without a tick', () => {
    expect(priceToTick(D('1.23456'), null, 'buy').toString()).toBe('1.23456');
  });
});

describe('applyRules', () => {
  it('quantises a valid limit order: amount down to the step, price to the tick', () => {
    const r = applyRules(MARKET, 'buy', D('0.0123456'), D('65000.019'), D('65000'));
    expect(r.amount.toString()).toBe('0.01234');
    expect(r.price!.toString()).toBe('65000.01');
  });

  it('a market order keeps a null price and is valued at the reference price', () => {
    const r = applyRules(MARKET, 'sell', D('0.0001'), null, D('65000'));
    expect(r).toEqual({ amount: D('0.0001'), price: null });
  });

  it('refuses an amount that rounds to 0 at the step, naming the step', () => {
    const e = refusal(() => applyRules(MARKET, 'buy', D('0.000001'), null, D(65000)));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toContain('0.00001');
    expect(e.details).toMatchObject({ issues: [{ path: 'amount' }], min_base_amount_increment: 0.00001 });
  });

  it('names an amount of many digits by its first 16 when it rounds to 0', () => {
    const amount = new Decimal(1000).div(151).div('1080000');
    expect(amount.toString().length).toBeGreaterThan(40);
    const e = refusal(() => applyRules(MARKET, 'buy', amount, null, D(65000)));
    expect(e.message).toContain('0.00000613195977434388 rounds to 0 at the amount step 0.00001');
  });

  it('refuses an amount below the minimum order size, naming the minimum and the asset', () => {
    const e = refusal(() => applyRules(MARKET, 'buy', D('0.00005'), D('200000'), D(65000)));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/minimum order size 0\.0001 BTC/);
    expect(e.details).toMatchObject({ issues: [{ path: 'amount' }], min_order_size: 0.0001, amount: 0.00005 });
    expect(e.hint).toContain('GET /connectors/{connector_name}/trading-rules');
  });

  it('refuses an amount above the maximum order size, naming the maximum', () => {
    const e = refusal(() => applyRules(MARKET, 'sell', D('100.00001'), null, D(65000)));
    expect(e.message).toMatch(/maximum order size 100 BTC/);
    expect(e.details).toMatchObject({ issues: [{ path: 'amount' }], max_order_size: 100 });
  });

  it('refuses a notional below the minimum, naming the minimum and the value', () => {
    // 0.0001 BTC at 40000 = 4 USDT < 5.
    const e = refusal(() => applyRules(MARKET, 'buy', D('0.0001'), null, D(40000)));
    expect(e.message).toMatch(/worth 4 USDT, below the minimum notional 5 USDT/);
    expect(e.details).toMatchObject({ issues: [{ path: 'amount' }], min_notional_size: 5, notional: 4 });
  });

  it('values a limit order at its own (quantised) price, not the reference', () => {
    // Worth 6.5 at the reference, 4.99999 at the limit once rounded down to the tick.
    expect(() => applyRules(MARKET, 'buy', D('0.0001'), D('49999.999'), D(65000))).toThrow(/minimum notional/);
    expect(applyRules(MARKET, 'sell', D('0.0001'), D('49999.991'), D(1000)).price!.toString()).toBe('50000');
  });

  it('refuses a price that rounds to 0 at the tick, naming the tick', () => {
    const e = refusal(() => applyRules(MARKET, 'buy', D(1), D('0.001'), D(65000)));
    expect(e.message).toContain('0.01');
    expect(e.details).toMatchObject({ issues: [{ path: 'price' }], min_price_increment: 0.01 });
  });

  it('applies no minimum a market does not publish', () => {
    const bare: Market = { ...MARKET, rules: { ...MARKET.rules, min_order_size: null, max_order_size: null, min_notional_size: null, min_base_amount_increment: null, min_price_increment: null } };
    expect(applyRules(bare, 'buy', D('0.000000001'), D('0.000001'), D(1)).amount.toString()).toBe('0.000000001');
  });
});
