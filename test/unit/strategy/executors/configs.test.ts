import { describe, expect, it } from 'vitest';
import { ExecutorConfig, MAX_GRID_LEVELS, MAX_TWAP_SLICES } from '../../../../src/core/strategy/executors/configs.js';

/** What a config refuses before an executor is built: sizes that would make its state unbounded, ranges that say nothing. */
const issues = (c: Record<string, unknown>) => {
  const r = ExecutorConfig.safeParse({ connector_name: 'sim', trading_pair: 'BTC-USDT', ...c });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('executor configs', () => {
  const grid = { type: 'grid', side: 'buy', start_price: '100', end_price: '125', total_amount_quote: '675', min_spread_between_orders: 0.125 };
  const twap = { type: 'twap', side: 'buy', total_amount_quote: '1000', total_duration: 3600, order_interval: 60 };

  it('a grid runs from a lower start to a higher end, with its limit price outside on the losing side', () => {
    expect(issues(grid)).toEqual([]);
    expect(issues({ ...grid, start_price: '200', end_price: '100' })).toEqual(['end_price: start_price must be below end_price']);
    expect(issues({ ...grid, limit_price: '110' })).toEqual(['limit_price: limit_price must be below start_price for a long grid (side buy) and above end_price for a short one']);
    expect(issues({ ...grid, limit_price: '95' })).toEqual([]);
    expect(issues({ ...grid, side: 'sell', limit_price: '95' })).toHaveLength(1);
    expect(issues({ ...grid, side: 'sell', limit_price: '130' })).toEqual([]);
  });

  it(`a grid has at most ${MAX_GRID_LEVELS} levels and a TWAP at most ${MAX_TWAP_SLICES} slices`, () => {
    // 1 → 1,000,000 at 0.0005 apart, a budget of 1e12: two billion levels
    expect(issues({ ...grid, start_price: '1', end_price: '1000000', total_amount_quote: '1000000000000', min_spread_between_orders: 0.0005 })).toEqual([
      `min_spread_between_orders: the grid would have more than ${MAX_GRID_LEVELS} levels: raise min_spread_between_orders or min_order_amount_quote, or narrow the range`,
    ]);
    // exactly 1,000 levels (by amount: 5,000 / 5) is allowed
    expect(issues({ ...grid, start_price: '1', end_price: '1000000', total_amount_quote: '5000', min_spread_between_orders: 0.0005 })).toEqual([]);
    expect(issues({ ...twap, total_duration: 315_360_000, order_interval: 1 })).toEqual([`order_interval: at most ${MAX_TWAP_SLICES} slices: raise order_interval or shorten total_duration`]);
    expect(issues({ ...twap, total_duration: 10_000, order_interval: 1 })).toEqual([]);
  });
});
