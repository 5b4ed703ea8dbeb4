import { describe, expect, it } from 'vitest';
import { pmmSimple } from '../../../../src/core/strategy/controllers/pmm-simple.js';
import { ExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import type { ExecutorAction } from '../../../../src/core/strategy/types.js';
import { ControllerHarness } from '../../../helpers/controller-harness.js';
import { FakeMarketView } from '../../../helpers/fake-market-view.js';

const T0 = 1_000_000;
const BARRIER = {
  open_order_type: 'limit',
  take_profit_order_type: 'limit',
  stop_loss_order_type: 'market',
  time_limit_order_type: 'market',
  stop_loss: 0.03,
  take_profit: 0.02,
  time_limit: 2700,
} as const;

const create = (id: string, side: 'buy' | 'sell', entry_price: string, amount: string): ExecutorAction => ({
  kind: 'create',
  config: { type: 'position', id, connector_name: 'sim', trading_pair: 'BTC-USDT', leverage: 20, side, amount, entry_price, triple_barrier: { ...BARRIER } },
});
const stop = (executorId: string): ExecutorAction => ({ kind: 'stop', executorId, keepPosition: false });

function setup(overrides: Record<string, unknown> = {}) {
  const config = pmmSimple.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: 300, buy_spreads: [0.01, 0.02], sell_spreads: [0.01], ...overrides });
  return new ControllerHarness(pmmSimple.create(config), new FakeMarketView().setQuote('sim', 'BTC-USDT', 100));
}

describe('pmm_simple', () => {
  it('takes the original defaults and checks the level fields', () => {
    const c = pmmSimple.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT' });
    expect(c).toMatchObject({ buy_spreads: [0.01, 0.02], sell_spreads: [0.01, 0.02], buy_amounts_pct: null, sell_amounts_pct: null, executor_refresh_time: 300, cooldown_time: 15, leverage: 20, stop_loss: 0.03, take_profit: 0.02, time_limit: 2700, take_profit_order_type: 'limit', trailing_stop: null });
    expect(pmmSimple.warmupBars(c)).toBe(0);
    expect(pmmSimple.data(c)).toEqual({ candles: [], quotes: [{ connector: 'sim', tradingPair: 'BTC-USDT' }] });
    const bad = (o: Record<string, unknown>) => pmmSimple.config.safeParse({ connector_name: 'sim', trading_pair: 'BTC-USDT', ...o }).success;
    expect(bad({ buy_amounts_pct: [1] })).toBe(false);
    expect(bad({ buy_spreads: [], sell_spreads: [] })).toBe(false);
    expect(bad({ sell_spreads: [1.5] })).toBe(false);
  });

  it('places one limit-entry position executor per level around the mid, buy levels first', () => {
    const h = setup();
    // 300 quote over three levels: 100 each, at 99, 98 and 101.
    expect(h.step(T0)).toEqual([
      create('ex-1:buy_0', 'buy', '99', '1.01010101010101'),
      create('ex-2:buy_1', 'buy', '98', '1.020408163265306'),
      create('ex-3:sell_0', 'sell', '101', '0.99009900990099'),
    ]);
    expect(h.step(T0 + 10_000)).toEqual([]);
    expect(h.instance.processedData?.()).toEqual({ reference_price: '100', spread_multiplier: 1 });
    for (const e of h.executors) expect(e.status).toBe('active');
  });

  it('splits total_amount_quote by the weights of both sides', () => {
    const h = setup({ total_amount_quote: 800, buy_amounts_pct: [1, 3], sell_amounts_pct: [4] });
    const amounts = h.step(T0).map((a) => (a.kind === 'create' && a.config.type === 'position' ? [a.config.entry_price, a.config.amount] : null));
    // 100, 300 and 400 quote.
    expect(amounts).toEqual([
      ['99', '1.01010101010101'],
      ['98', '3.061224489795918'],
      ['101', '3.96039603960396'],
    ]);
  });

  it('refreshes unfilled levels after executor_refresh_time and lays them again around the new mid', () => {
    const h = setup();
    h.step(T0);
    h.fill('ex-1:buy_0', '99');
    h.market.setQuote('sim', 'BTC-USDT', 110);
    expect(h.step(T0 + 300_000)).toEqual([]);
    // The filled level is left to its barriers; the two others are stopped.
    expect(h.step(T0 + 301_000)).toEqual([stop('ex-2:buy_1'), stop('ex-3:sell_0')]);
    expect(h.step(T0 + 302_000)).toEqual([create('ex-4:buy_1', 'buy', '107.8', '0.9276437847866419'), create('ex-5:sell_0', 'sell', '111.1', '0.9000900090009')]);
  });

  it('does not stop an executor twice while it shuts down', () => {
    const h = setup();
    h.step(T0);
    for (const e of h.executors) e.status = 'shutting_down';
    expect(h.step(T0 + 400_000)).toEqual([]);
  });

  it('keeps a stopped-out level empty for cooldown_time; other endings free it at once', () => {
    const h = setup();
    h.step(T0);
    h.end('ex-1:buy_0', 'STOP_LOSS', T0 + 50_000);
    h.end('ex-3:sell_0', 'TAKE_PROFIT', T0 + 50_000);
    expect(h.step(T0 + 60_000)).toEqual([create('ex-4:sell_0', 'sell', '101', '0.99009900990099')]);
    expect(h.step(T0 + 65_000)).toEqual([create('ex-5:buy_0', 'buy', '99', '1.01010101010101')]);
  });

  it('ignores executors that hold no level and waits for a quote', () => {
    const h = setup();
    h.market.setQuote('sim', 'BTC-USDT', null);
    expect(h.step(T0)).toEqual([]);
    h.market.setQuote('sim', 'BTC-USDT', 100);
    const actions = h.step(T0 + 1);
    expect(actions).toHaveLength(3);
    for (const a of actions) if (a.kind === 'create') expect(ExecutorConfig.parse(a.config)).toEqual(a.config);
    // An executor of this controller without a level suffix (made by hand) is neither refreshed nor a level.
    h.executors.push({ ...h.get('ex-1:buy_0'), id: 'manual-1' });
    h.end('ex-1:buy_0', 'TAKE_PROFIT', T0 + 2);
    expect(h.step(T0 + 400_000)).toEqual([create('ex-4:buy_0', 'buy', '99', '1.01010101010101'), stop('ex-2:buy_1'), stop('ex-3:sell_0')]);
  });
});
