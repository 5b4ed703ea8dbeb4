import { describe, expect, it } from 'vitest';
import { gridStrike } from '../../../../src/core/strategy/controllers/grid-strike.js';
import { ExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import type { ExecutorAction } from '../../../../src/core/strategy/types.js';
import { ControllerHarness } from '../../../helpers/controller-harness.js';
import { FakeMarketView } from '../../../helpers/fake-market-view.js';

const T0 = 5_000_000;
const BASE = { connector_name: 'sim_perpetual', trading_pair: 'WLD-USDT', start_price: '0.58', end_price: '0.95', limit_price: '0.55' };

function setup(mid: number, overrides: Record<string, unknown> = {}) {
  const config = gridStrike.config.parse({ ...BASE, ...overrides });
  return new ControllerHarness(gridStrike.create(config), new FakeMarketView().setQuote('sim_perpetual', 'WLD-USDT', mid));
}

const grid = (id: string): ExecutorAction => ({
  kind: 'create',
  config: {
    type: 'grid',
    id,
    connector_name: 'sim_perpetual',
    trading_pair: 'WLD-USDT',
    leverage: 20,
    side: 'buy',
    start_price: '0.58',
    end_price: '0.95',
    limit_price: '0.55',
    total_amount_quote: '1000',
    min_spread_between_orders: 0.001,
    min_order_amount_quote: '5',
    max_open_orders: 2,
    max_orders_per_batch: 1,
    order_frequency: 3,
    safe_extra_spread: 0.0001,
    take_profit: 0.001,
    keep_position: false,
  },
});

describe('grid_strike', () => {
  it('takes the original defaults and checks the bounds', () => {
    const c = gridStrike.config.parse(BASE);
    expect(c).toMatchObject({ side: 'buy', total_amount_quote: '1000', leverage: 20, min_spread_between_orders: 0.001, min_order_amount_quote: '5', max_open_orders: 2, max_orders_per_batch: 1, order_frequency: 3, activation_bounds: null, take_profit: 0.001, keep_position: false });
    expect(gridStrike.warmupBars(c)).toBe(0);
    const ok = (o: Record<string, unknown>) => gridStrike.config.safeParse({ ...BASE, ...o }).success;
    expect(ok({ start_price: '0.95', end_price: '0.58' })).toBe(false);
    expect(ok({ limit_price: '0.6' })).toBe(false);
    expect(ok({ side: 'sell', limit_price: '0.9' })).toBe(false);
    expect(ok({ side: 'sell', limit_price: '1' })).toBe(true);
    expect(ok({ limit_price: undefined })).toBe(true);
    // The grid executor's limit of 1,000 levels holds for the controller's config too.
    expect(gridStrike.config.safeParse({ ...BASE, min_spread_between_orders: 0.0001, total_amount_quote: '100000', min_order_amount_quote: '1' }).error?.issues.map((i) => i.path.join('.'))).toEqual(['min_spread_between_orders']);
  });

  it('lays a grid only while the mid is inside the bounds', () => {
    const h = setup(0.5);
    expect(h.step(T0)).toEqual([]);
    expect(h.instance.processedData?.()).toEqual({ mid_price: '0.5', inside_bounds: false, active_grid: null });
    h.market.setQuote('sim_perpetual', 'WLD-USDT', 0.96);
    expect(h.step(T0 + 1000)).toEqual([]);
    h.market.setQuote('sim_perpetual', 'WLD-USDT', 0.95);
    const actions = h.step(T0 + 2000);
    expect(actions).toEqual([grid('ex-1')]);
    for (const a of actions) if (a.kind === 'create') expect(ExecutorConfig.parse(a.config)).toEqual(a.config);
    expect(h.instance.processedData?.()).toEqual({ mid_price: '0.95', inside_bounds: true, active_grid: 'ex-1' });
  });

  it('keeps one grid at a time and lays a new one when it ends', () => {
    const h = setup(0.7);
    expect(h.step(T0)).toEqual([grid('ex-1')]);
    expect(h.step(T0 + 1000)).toEqual([]);
    h.market.setQuote('sim_perpetual', 'WLD-USDT', 0.54);
    h.end('ex-1', 'STOP_LOSS', T0 + 2000);
    // Ended below the range: nothing until the price is back inside.
    expect(h.step(T0 + 3000)).toEqual([]);
    h.market.setQuote('sim_perpetual', 'WLD-USDT', 0.6);
    expect(h.step(T0 + 4000)).toEqual([grid('ex-2')]);
    expect(h.step(T0 + 5000)).toEqual([]);
  });

  it('a grid the market’s rules cannot size is laid once (it ends FAILED, saying why), not again each step', () => {
    const h = setup(0.7, { total_amount_quote: '50' });
    h.market.setRules('sim_perpetual', 'WLD-USDT', { min_order_size: '100', max_order_size: null, min_price_increment: '0.0001', min_base_amount_increment: '1', min_notional_size: '5', max_leverage: 20, supported_order_types: ['limit_maker'] });
    expect(h.step(T0).map((a) => a.kind)).toEqual(['create']);
    h.end('ex-1', 'FAILED', T0);
    expect(h.step(T0 + 1000)).toEqual([]);
    expect(h.step(T0 + 2000)).toEqual([]);
    expect(h.instance.processedData?.()).toMatchObject({ active_grid: null, grid_refused: expect.stringContaining('total_amount_quote 50 cannot fund one grid level') });
    // Rules that allow it (a new object, as a view gives after reading them again): grids are laid again.
    h.market.setRules('sim_perpetual', 'WLD-USDT', { min_order_size: '1', max_order_size: null, min_price_increment: '0.0001', min_base_amount_increment: '1', min_notional_size: '5', max_leverage: 20, supported_order_types: ['limit_maker'] });
    expect(h.step(T0 + 3000).map((a) => a.kind)).toEqual(['create']);
    expect(h.instance.processedData?.()).not.toHaveProperty('grid_refused');
  });

  it('passes the optional grid settings through', () => {
    const h = setup(0.7, { side: 'sell', limit_price: '1', activation_bounds: 0.01, time_limit: 3600, max_orders_per_batch: null, keep_position: true });
    const [a] = h.step(T0);
    expect(a?.kind === 'create' && a.config).toMatchObject({ side: 'sell', limit_price: '1', activation_bounds: 0.01, time_limit: 3600, keep_position: true });
    expect(a?.kind === 'create' && a.config.type === 'grid' && a.config.max_orders_per_batch).toBeUndefined();
  });
});
