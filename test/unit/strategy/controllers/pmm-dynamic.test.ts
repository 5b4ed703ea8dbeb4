import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../../src/core/decimal.js';
import { MACD_ZSCORE_WINDOW, pmmDynamic } from '../../../../src/core/strategy/controllers/pmm-dynamic.js';
import { ExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { macd, natr } from '../../../../src/core/strategy/indicators/index.js';
import { ControllerHarness } from '../../../helpers/controller-harness.js';
import { candlesFromCloses, FakeMarketView } from '../../../helpers/fake-market-view.js';

const STEP = 180_000; // 3m
const at = (i: number) => (i + 1) * STEP;
const CLOSES = Array.from({ length: 140 }, (_, i) => 100 + 10 * Math.sin(i / 7) + 0.05 * i + 2 * Math.sin(i * 1.3));
const CANDLES = candlesFromCloses(CLOSES, '3m');
const BASE = { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: 300, buy_spreads: [1, 2], sell_spreads: [1.5], macd_fast: 3, macd_slow: 6, macd_signal: 3, natr_length: 5 };

function setup(overrides: Record<string, unknown> = {}) {
  const config = pmmDynamic.config.parse({ ...BASE, ...overrides });
  return new ControllerHarness(pmmDynamic.create(config), new FakeMarketView().addCandles('sim', 'BTC-USDT', '3m', CANDLES));
}

/** The original's features at candle i, from the whole-series indicators and a plain sample z-score. */
function expected(i: number) {
  const m = macd(CLOSES, 3, 6, 3);
  const n = natr(
    CANDLES.map((c) => c.high),
    CANDLES.map((c) => c.low),
    CLOSES,
    5,
  );
  const window = Array.from(m.macd.subarray(i + 1 - MACD_ZSCORE_WINDOW, i + 1));
  const mean = window.reduce((s, x) => s + x, 0) / window.length;
  const sd = Math.sqrt(window.reduce((s, x) => s + (x - mean) ** 2, 0) / (window.length - 1));
  const z = -((m.macd[i] as number) - mean) / sd;
  const natrF = (n[i] as number) / 100;
  const shift = (0.5 * z + 0.5 * ((m.histogram[i] as number) > 0 ? 1 : -1)) * (natrF / 2);
  return { reference: (CLOSES[i] as number) * (1 + shift), natr: natrF, z };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('pmm_dynamic', () => {
  it('takes the original defaults, spreads in NATR multiples', () => {
    const c = pmmDynamic.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT' });
    expect(c).toMatchObject({ interval: '3m', buy_spreads: [1, 2, 4], sell_spreads: [1, 2, 4], macd_fast: 21, macd_slow: 42, macd_signal: 9, natr_length: 14, executor_refresh_time: 300 });
    expect(pmmDynamic.warmupBars(c)).toBe(42 + MACD_ZSCORE_WINDOW - 1);
    expect(pmmDynamic.data(c).candles).toEqual([{ connector: 'sim', tradingPair: 'BTC-USDT', interval: '3m', bars: 141 }]);
    expect(pmmDynamic.config.safeParse({ ...BASE, macd_fast: 9, macd_slow: 6 }).success).toBe(false);
  });

  it('places nothing until NATR, the histogram and a full MACD z-score window are defined', () => {
    const cfg = pmmDynamic.config.parse(BASE);
    const warm = pmmDynamic.warmupBars(cfg);
    expect(warm).toBe(6 + MACD_ZSCORE_WINDOW - 1);
    const h = setup();
    for (let i = 0; i < warm - 1; i++) expect(h.step(at(i))).toEqual([]);
    expect(h.instance.processedData?.()).toMatchObject({ reference_price: null, spread_multiplier: null });
    expect(h.step(at(warm - 1))).toHaveLength(3);
  });

  it('shifts the reference by MACD and scales the spreads by NATR', () => {
    const h = setup();
    const i = pmmDynamic.warmupBars(pmmDynamic.config.parse(BASE)) - 1;
    for (let k = 0; k < i; k++) h.step(at(k));
    const actions = h.step(at(i));
    const e = expected(i);
    const p = h.instance.processedData?.() as Record<string, number | string>;
    expect(rel(Number(p.reference_price), e.reference)).toBeLessThan(1e-9);
    expect(rel(p.spread_multiplier as number, e.natr)).toBeLessThan(1e-9);
    expect(rel(p.macd_zscore as number, e.z)).toBeLessThan(1e-9);
    const levels = [
      { id: 'ex-1:buy_0', side: 'buy', price: e.reference * (1 - 1 * e.natr) },
      { id: 'ex-2:buy_1', side: 'buy', price: e.reference * (1 - 2 * e.natr) },
      { id: 'ex-3:sell_0', side: 'sell', price: e.reference * (1 + 1.5 * e.natr) },
    ];
    expect(actions).toHaveLength(3);
    actions.forEach((a, k) => {
      const l = levels[k];
      if (a.kind !== 'create' || a.config.type !== 'position' || l === undefined) throw new Error('a position create per level expected');
      expect(ExecutorConfig.parse(a.config)).toEqual(a.config);
      expect(a.config).toMatchObject({ id: l.id, side: l.side, leverage: 20, triple_barrier: { open_order_type: 'limit' } });
      expect(rel(Number(a.config.entry_price), l.price)).toBeLessThan(1e-9);
      // 100 quote per level at exactly the entry price.
      expect(a.config.amount).toBe(new Decimal(100).div(a.config.entry_price as string).toSignificantDigits(16, Decimal.ROUND_DOWN).toFixed());
    });
  });

  it('follows the candles: each new close moves the reference the way the original computes it', () => {
    const h = setup({ buy_spreads: [], sell_spreads: [1] });
    const first = pmmDynamic.warmupBars(pmmDynamic.config.parse(BASE)) - 1;
    for (let i = 0; i < CLOSES.length; i++) {
      h.step(at(i));
      if (i < first) continue;
      const p = h.instance.processedData?.() as Record<string, string>;
      expect(rel(Number(p.reference_price), expected(i).reference)).toBeLessThan(1e-9);
    }
    // One level, never filled: stopped two candles after it was laid (360 s > 300 s), laid again on the next,
    // so one executor every three candles from the first ready one (candles 104, 107, ..., 137).
    expect(h.executors.map((e) => [e.id, e.createdAt])).toEqual(Array.from({ length: 12 }, (_, k) => [`ex-${k + 1}:sell_0`, at(first + 3 * k)]));
  });
});
