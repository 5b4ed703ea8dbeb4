import { describe, expect, it } from 'vitest';
import { macdBbV1 } from '../../../../src/core/strategy/controllers/macd-bb-v1.js';
import { ExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { ControllerHarness, directionalCreate } from '../../../helpers/controller-harness.js';
import { candlesFromCloses, FakeMarketView } from '../../../helpers/fake-market-view.js';

const STEP = 180_000; // 3m
const at = (i: number) => (i + 1) * STEP;

// An accelerating slide (MACD negative and still falling: histogram negative), a pause at the bottom
// (MACD turns up while still negative: histogram positive), then a rally that stalls at the top
// (MACD positive, histogram turning negative).
const SLIDE = Array.from({ length: 30 }, (_, i) => 160 - i - 0.05 * i * i);
const CLOSES = [...SLIDE, 90, 89.5, 89.2, 89, 120, 140, 150, 155, 157, 158, 150];

const BASE = { connector_name: 'sim', trading_pair: 'BTC-USDT', bb_length: 10, bb_long_threshold: 0.3, bb_short_threshold: 0.7, macd_fast: 3, macd_slow: 6, macd_signal: 3 };

function setup(overrides: Record<string, unknown> = {}) {
  const config = macdBbV1.config.parse({ ...BASE, ...overrides });
  const market = new FakeMarketView().addCandles('sim', 'BTC-USDT', '3m', candlesFromCloses(CLOSES, '3m'));
  return new ControllerHarness(macdBbV1.create(config), market);
}

const create = directionalCreate;

describe('macd_bb_v1', () => {
  it('takes the original defaults and warms up the longer of the bands and the MACD histogram', () => {
    const c = macdBbV1.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT' });
    expect(c).toMatchObject({ interval: '3m', bb_length: 100, bb_std: 2, bb_long_threshold: 0, bb_short_threshold: 1, macd_fast: 21, macd_slow: 42, macd_signal: 9 });
    expect(macdBbV1.warmupBars(c)).toBe(100);
    const short = macdBbV1.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT', bb_length: 20 });
    expect(macdBbV1.warmupBars(short)).toBe(50);
    expect(macdBbV1.data(short).candles).toEqual([{ connector: 'sim', tradingPair: 'BTC-USDT', interval: '3m', bars: 50 }]);
    expect(macdBbV1.config.safeParse({ ...BASE, macd_fast: 6, macd_slow: 6 }).success).toBe(false);
  });

  it('the histogram is defined after warmupBars candles, not before', () => {
    const c = macdBbV1.config.parse({ ...BASE, bb_length: 3 });
    expect(macdBbV1.warmupBars(c)).toBe(8);
    const market = new FakeMarketView().addCandles('sim', 'BTC-USDT', '3m', candlesFromCloses(CLOSES, '3m'));
    const early = new ControllerHarness(macdBbV1.create(c), market);
    early.step(at(6));
    expect(early.instance.processedData?.()).toMatchObject({ macd_histogram: null });
    const ready = new ControllerHarness(macdBbV1.create(c), market);
    ready.step(at(7));
    expect((ready.instance.processedData?.() as { macd_histogram: number | null }).macd_histogram).toEqual(expect.any(Number));
  });

  it('goes long only when %B is low and MACD is negative but turning up, short only when %B is high and MACD positive but turning down', () => {
    const h = setup();
    const steps = CLOSES.map((_, i) => h.step(at(i)));
    // The slide: %B low and MACD negative throughout, but the histogram is negative too: no trade.
    for (let i = 0; i < 30; i++) expect(steps[i]).toEqual([]);
    expect(h.instance.processedData?.()).toMatchObject({ signal: 0 });
    // The pause: histogram positive. Long at 90 (100 / 2 / 90), cooldown at 89.5, second at 89.2, side full at 89.
    expect(steps[30]).toEqual([create('ex-1', 'buy', '0.5555555555555555')]);
    expect(steps[31]).toEqual([]);
    expect(steps[32]).toEqual([create('ex-2', 'buy', '0.5605381165919282')]);
    expect(steps[33]).toEqual([]);
    // The rally: %B high and MACD positive, but the histogram only turns negative at 158.
    for (let i = 34; i < 39; i++) expect(steps[i]).toEqual([]);
    expect(steps[39]).toEqual([create('ex-3', 'sell', '0.3164556962025316')]);
    expect(steps[40]).toEqual([]);
    for (const a of steps.flat()) if (a.kind === 'create') expect(ExecutorConfig.parse(a.config)).toEqual(a.config);
  });

  it('reports the signal and the indicator values it was taken on', () => {
    const h = setup();
    for (let i = 0; i <= 30; i++) h.step(at(i));
    const p = h.instance.processedData?.() as Record<string, number>;
    expect(p).toMatchObject({ signal: 1, close: 90, candle_time: 30 * STEP });
    expect(p.bb_percent_b).toBeLessThan(0.3);
    expect(p.macd).toBeLessThan(0);
    expect(p.macd_histogram).toBeGreaterThan(0);
    expect(p.macd_histogram).toBeCloseTo((p.macd as number) - (p.macd_signal as number), 12);
  });
});
