import { describe, expect, it } from 'vitest';
import { bollingerV1 } from '../../../../src/core/strategy/controllers/bollinger-v1.js';
import { ExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { ControllerHarness, directionalCreate } from '../../../helpers/controller-harness.js';
import { candlesFromCloses, FakeMarketView } from '../../../helpers/fake-market-view.js';

const STEP = 180_000; // 3m
// Twenty closes alternating 100/101 (bands 99.5..101.5 once warm), then a slide and a spike.
const FLAT = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 100 : 101));
const CLOSES = [...FLAT, 90, 81, 72.9, 65.61, 59.049, 100, 130];

const create = directionalCreate;

function setup(overrides: Record<string, unknown> = {}, closes = CLOSES) {
  const config = bollingerV1.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT', bb_length: 20, ...overrides });
  const market = new FakeMarketView().addCandles('sim', 'BTC-USDT', '3m', candlesFromCloses(closes, '3m'));
  return new ControllerHarness(bollingerV1.create(config), market);
}

/** The step at which candle i has just closed. */
const at = (i: number) => (i + 1) * STEP;

describe('bollinger_v1', () => {
  it('takes the original defaults and describes every field', () => {
    const c = bollingerV1.config.parse({ connector_name: 'binance_perpetual', trading_pair: 'WLD-USDT' });
    expect(c).toMatchObject({
      interval: '3m',
      bb_length: 100,
      bb_std: 2,
      bb_long_threshold: 0,
      bb_short_threshold: 1,
      total_amount_quote: '100',
      max_executors_per_side: 2,
      cooldown_time: 300,
      leverage: 20,
      stop_loss: 0.03,
      take_profit: 0.02,
      time_limit: 2700,
      take_profit_order_type: 'limit',
      trailing_stop: { activation_price: 0.015, trailing_delta: 0.003 },
    });
    expect(bollingerV1.warmupBars(c)).toBe(100);
    expect(bollingerV1.data(c)).toEqual({
      candles: [{ connector: 'binance_perpetual', tradingPair: 'WLD-USDT', interval: '3m', bars: 100 }],
      quotes: [{ connector: 'binance_perpetual', tradingPair: 'WLD-USDT' }],
      executors: 'active',
    });
    const other = bollingerV1.config.parse({ connector_name: 'binance_perpetual', trading_pair: 'WLD-USDT', candles_connector: 'binance', candles_trading_pair: 'WLD-USDT', interval: '1m' });
    expect(bollingerV1.data(other).candles).toEqual([{ connector: 'binance', tradingPair: 'WLD-USDT', interval: '1m', bars: 100 }]);
  });

  it('stays silent through the warm-up, even on a close far outside the bands', () => {
    // The 20th close would be a long signal were the bands ready one candle earlier.
    const h = setup({ bb_length: 21 }, [...FLAT, 50]);
    for (let i = 0; i < 20; i++) {
      expect(h.step(at(i))).toEqual([]);
      expect(h.instance.processedData?.()).toMatchObject({ signal: 0, bb_percent_b: null });
    }
    expect(h.step(at(20))).toEqual([create('ex-1', 'buy', '1')]);
  });

  it('warms up in exactly warmupBars candles', () => {
    const h = setup();
    h.step(at(18));
    expect(h.instance.processedData?.()).toMatchObject({ bb_percent_b: null });
    const h2 = setup();
    h2.step(at(19));
    expect(h2.instance.processedData?.()).toMatchObject({ bb_upper: 101.5, bb_middle: 100.5, bb_lower: 99.5, bb_percent_b: 0.75, signal: 0 });
  });

  it('goes long below the lower band, respecting cooldown and the per-side cap, and short above the upper band', () => {
    const h = setup();
    for (let i = 0; i < 20; i++) expect(h.step(at(i))).toEqual([]);
    // 90: %B = (90 - 95.31) / 9.38 < 0, long; amount = 100 / 2 / 90.
    expect(h.step(at(20))).toEqual([create('ex-1', 'buy', '0.5555555555555555')]);
    expect(h.instance.processedData?.()).toMatchObject({ signal: 1, close: 90, bb_middle: 100 });
    // Still long 180 s later: inside the 300 s cooldown.
    expect(h.step(at(21))).toEqual([]);
    // 360 s after the first: cooled down, second of two per side (100 / 2 / 72.9, rounded down).
    expect(h.step(at(22))).toEqual([create('ex-2', 'buy', '0.6858710562414266')]);
    // Long still, cooled down at 24, but the side is full.
    expect(h.step(at(23))).toEqual([]);
    expect(h.step(at(24))).toEqual([]);
    // One ends: the side has room and the newest active one (ex-2) is 360 s old; 100 / 2 / 59.049.
    h.end('ex-1', 'STOP_LOSS', at(24));
    expect(h.step(at(24) + 1)).toEqual([create('ex-3', 'buy', '0.8467543904215143')]);
    // 100: back inside the bands, no signal.
    expect(h.step(at(25))).toEqual([]);
    expect(h.instance.processedData?.()).toMatchObject({ signal: 0 });
    // 130: above the upper band. The long executors do not count against the short side.
    expect(h.step(at(26))).toEqual([create('ex-4', 'sell', '0.3846153846153846')]);
    expect(h.active().map((e) => e.id)).toEqual(['ex-2', 'ex-3', 'ex-4']);
  });

  it('builds executor configs the executor schema accepts', () => {
    const h = setup({ stop_loss: null, trailing_stop: null, take_profit_order_type: 'market' });
    const actions = CLOSES.flatMap((_, i) => h.step(at(i)));
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions) {
      if (a.kind !== 'create') throw new Error('only creates expected');
      expect(ExecutorConfig.parse(a.config)).toEqual(a.config);
      expect(a.config.type === 'position' && a.config.triple_barrier).toEqual({
        open_order_type: 'market',
        take_profit_order_type: 'market',
        stop_loss_order_type: 'market',
        time_limit_order_type: 'market',
        take_profit: 0.02,
        time_limit: 2700,
      });
    }
  });

  it('does nothing without a quote to size the position', () => {
    const h = setup();
    h.market.setQuote('sim', 'BTC-USDT', null);
    expect(CLOSES.flatMap((_, i) => h.step(at(i)))).toEqual([]);
    expect(h.instance.processedData?.()).toMatchObject({ signal: -1 });
  });

  it('reads each candle once: the warm-up on the first step, then only what closed since', () => {
    const h = setup();
    const market = h.market;
    h.step(at(19));
    expect(market.rowsRead).toBe(20);
    h.step(at(19) + 60_000); // nothing new has closed
    expect(market.rowsRead).toBe(20);
    for (let i = 20; i < CLOSES.length; i++) {
      const before = market.rowsRead;
      h.step(at(i));
      expect(market.rowsRead - before).toBeLessThanOrEqual(2);
    }
    // Same decisions as a controller that saw every step.
    const full = setup();
    for (let i = 0; i < CLOSES.length; i++) full.step(at(i));
    expect(h.instance.processedData?.()).toEqual(full.instance.processedData?.());
  });
});
