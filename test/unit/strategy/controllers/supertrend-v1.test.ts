import { describe, expect, it } from 'vitest';
import { supertrendV1 } from '../../../../src/core/strategy/controllers/supertrend-v1.js';
import { ExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { ControllerHarness, directionalCreate } from '../../../helpers/controller-harness.js';
import { candlesFromCloses, FakeMarketView } from '../../../helpers/fake-market-view.js';

const STEP = 180_000; // 3m
const at = (i: number) => (i + 1) * STEP;

// A climb, a pause near the trailing line, a breakout, a reversal down and a pause under the line.
const CLOSES = [100, 101, 102, 103, 104, 105, 106, 107, 108, 108, 107.5, 108, 110, 112, 114, 110, 106, 102, 98, 95, 96, 96.5, 97, 97.5, 97.2, 97.4];

function setup(overrides: Record<string, unknown> = {}) {
  const config = supertrendV1.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT', length: 5, multiplier: 1, percentage_threshold: 0.02, ...overrides });
  const market = new FakeMarketView().addCandles('sim', 'BTC-USDT', '3m', candlesFromCloses(CLOSES, '3m'));
  return new ControllerHarness(supertrendV1.create(config), market);
}

const create = directionalCreate;

describe('supertrend_v1', () => {
  it('takes the original defaults', () => {
    const c = supertrendV1.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT' });
    expect(c).toMatchObject({ interval: '3m', length: 20, multiplier: 4, percentage_threshold: 0.01, max_executors_per_side: 2, cooldown_time: 300 });
    expect(supertrendV1.warmupBars(c)).toBe(20);
  });

  it('has the line from the length-th candle: hl2 - multiplier x ATR, too far from the close to trade', () => {
    const h = setup();
    for (let i = 0; i < 4; i++) {
      expect(h.step(at(i))).toEqual([]);
      expect(h.instance.processedData?.()).toMatchObject({ signal: 0, supertrend: null, supertrend_direction: 0 });
    }
    // True ranges 1, 2, 2, 2, 2: ATR 1.8; hl2 = (104.5 + 102.5) / 2; line = 103.5 - 1.8; distance 2.3 / 104 > 2%.
    expect(h.step(at(4))).toEqual([]);
    const p = h.instance.processedData?.() as Record<string, number>;
    expect(p.supertrend).toBeCloseTo(101.7, 12);
    expect(p.percentage_distance).toBeCloseTo(2.3 / 104, 12);
    expect(p).toMatchObject({ signal: 0, supertrend_direction: 1 });
  });

  it('trades with the trend only while the close is near the line, within cooldown and the per-side cap', () => {
    const h = setup();
    const steps = CLOSES.map((_, i) => h.step(at(i)));
    for (let i = 0; i < 9; i++) expect(steps[i]).toEqual([]);
    // Up trend, close 108 within 2% of the line: long (100 / 2 / 108); cooldown; second long.
    expect(steps[9]).toEqual([create('ex-1', 'buy', '0.4629629629629629')]);
    expect(steps[10]).toEqual([]);
    expect(steps[11]).toEqual([create('ex-2', 'buy', '0.4629629629629629')]);
    // Breakout away from the line, then the flip down with the close far below the line: nothing.
    for (let i = 12; i < 23; i++) expect(steps[i]).toEqual([]);
    expect(h.instance.processedData?.()).toMatchObject({ supertrend_direction: -1 });
    // Down trend, close back within 2% under the line: short; cooldown; second short.
    expect(steps[23]).toEqual([create('ex-3', 'sell', '0.5128205128205128')]);
    expect(steps[24]).toEqual([]);
    expect(steps[25]).toEqual([create('ex-4', 'sell', '0.5133470225872689')]);
    for (const a of steps.flat()) if (a.kind === 'create') expect(ExecutorConfig.parse(a.config)).toEqual(a.config);
  });

  it('holds a side at max_executors_per_side', () => {
    const h = setup({ max_executors_per_side: 1, cooldown_time: 0 });
    const steps = CLOSES.map((_, i) => h.step(at(i)));
    expect(steps.flat().map((a) => (a.kind === 'create' ? a.config.side : 'stop'))).toEqual(['buy', 'sell']);
  });
});
