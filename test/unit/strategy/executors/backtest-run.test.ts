import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CandleColumns } from '../../../../src/core/backtest/candle-loader.js';
import { runBacktest, type BacktestEnv } from '../../../../src/core/backtest/engine.js';
import { BacktestSpec } from '../../../../src/core/backtest/spec.js';
import { simMarkets } from '../../../../src/core/exchange/sim/markets.js';
import { defineController } from '../../../../src/core/strategy/controller.js';
import { ExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { createExecutor } from '../../../../src/core/strategy/executors/registry.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);

/** Creates the one executor its config holds at its first update, nothing after. */
const oneShot = defineController({
  name: 'one_shot_v1',
  type: 'generic',
  description: 'Creates one executor from its config (tests only).',
  config: z.object({ connector_name: z.string(), trading_pair: z.string(), executor: z.record(z.string(), z.unknown()) }),
  data: (c) => ({ candles: [{ connector: c.connector_name, tradingPair: c.trading_pair, interval: '1m', bars: 1 }], quotes: [] }),
  warmupBars: () => 1,
  create: (c) => {
    let done = false;
    return {
      update() {
        if (done) return [];
        done = true;
        return [{ kind: 'create', config: ExecutorConfig.parse({ connector_name: c.connector_name, trading_pair: c.trading_pair, ...c.executor }) }];
      },
    };
  },
});

const env: BacktestEnv = {
  controller: (name) => (name === oneShot.name ? oneShot : undefined),
  createExecutor,
  market: simMarkets('spot').find((m) => m.trading_pair === 'BTC-USDT')!,
};

/** 240 one-minute candles: a slow swing 100 → 104 → 96 → 100 with a 0.3 range in each candle. */
function candles(): CandleColumns {
  const n = 240;
  const close = Array.from({ length: n }, (_, i) => Math.round((100 + 4 * Math.sin((2 * Math.PI * i) / n)) * 100) / 100);
  const open = close.map((c, i) => (i === 0 ? 100 : close[i - 1]!));
  return {
    time: Float64Array.from(close, (_, i) => T0 + i * MIN),
    open: Float64Array.from(open),
    high: Float64Array.from(close, (c, i) => Math.max(c, open[i]!) + 0.15),
    low: Float64Array.from(close, (c, i) => Math.min(c, open[i]!) - 0.15),
    close: Float64Array.from(close),
    volume: Float64Array.from(close, () => 1),
  };
}

/**
 * The same executors with their idle bands kept (edges still visited) but never trusted: `until` is
 * always past, so the runtime ticks every executor at every point. A band that skipped a tick at which
 * something would have happened shows as a different result.
 */
const tickEveryPoint: BacktestEnv = {
  ...env,
  createExecutor: (config, id, createdAt) => {
    const e = createExecutor(config, id, createdAt);
    const band = e.idleBand?.bind(e);
    if (band) e.idleBand = () => {
      const b = band();
      return b && { ...b, until: -Infinity };
    };
    return e;
  },
};

function run(executor: Record<string, unknown>, on: BacktestEnv = env) {
  const spec = BacktestSpec.parse({
    controller: { name: 'one_shot_v1', config: { executor } },
    connector: 'sim',
    trading_pair: 'BTC-USDT',
    start: T0 + MIN,
    end: T0 + 239 * MIN,
    trade_cost: 0.001,
    initial_balances: { base: '10', quote: '10000' },
  });
  return runBacktest(spec, candles(), null, on);
}

const CASES: Array<[string, Record<string, unknown>, (r: ReturnType<typeof run>) => void]> = [
  [
    'position: the trailing stop closes the long on the way down from 104',
    { type: 'position', side: 'buy', amount: '1', triple_barrier: { stop_loss: 0.05, trailing_stop: { activation_price: 0.02, trailing_delta: 0.01 } } },
    (r) => expect(r.executors[0]).toMatchObject({ closeType: 'TRAILING_STOP', status: 'terminated' }),
  ],
  [
    'order: a chaser buy completes',
    { type: 'order', side: 'buy', amount: '0.5', execution_strategy: 'limit_chaser', chaser: { distance: 0.001, refresh_threshold: 0.002 } },
    (r) => expect(r.executors[0]).toMatchObject({ closeType: 'COMPLETED' }),
  ],
  [
    'dca: maker levels below fill on the dip and the take profit closes',
    { type: 'dca', side: 'buy', amounts_quote: ['100', '100'], prices: ['99', '97'], take_profit: 0.01 },
    (r) => expect(r.executors[0]).toMatchObject({ closeType: 'TAKE_PROFIT' }),
  ],
  [
    'grid: levels round-trip on the swing',
    { type: 'grid', side: 'buy', start_price: '96', end_price: '104', total_amount_quote: '500', min_spread_between_orders: 0.01, take_profit: 0.005, time_limit: 200 * 60 },
    (r) => {
      expect(r.executors[0]).toMatchObject({ closeType: 'TIME_LIMIT', status: 'terminated' });
      expect((r.executors[0]!.custom as { round_trips: number }).round_trips).toBeGreaterThan(0);
    },
  ],
  [
    'twap: every slice fills',
    { type: 'twap', side: 'sell', total_amount_quote: '300', total_duration: 3600, order_interval: 600, mode: 'maker', limit_order_buffer: 0.0005, order_resubmission_time: 120 },
    (r) => expect(r.executors[0]).toMatchObject({ closeType: 'COMPLETED', custom: { slices_done: 6 } }),
  ],
];

describe('executors in the backtest engine', () => {
  it.each(CASES)('%s, and twice the same', (_name, executor, check) => {
    const a = run(executor);
    expect(a.executors).toHaveLength(1);
    check(a);
    expect(JSON.stringify(run(executor))).toBe(JSON.stringify(a));
  });

  const grid = { type: 'grid', start_price: '96', end_price: '104', total_amount_quote: '500', min_spread_between_orders: 0.01, take_profit: 0.005, time_limit: 200 * 60 };
  const BAND_CASES: Array<[string, Record<string, unknown>]> = [
    ...CASES.map(([name, executor]) => [name, executor] as [string, Record<string, unknown>]),
    ['grid with activation bounds, few open orders and a batch interval', { ...grid, side: 'buy', activation_bounds: 0.015, max_open_orders: 2, order_frequency: 300 }],
    ['grid stopped by its limit price', { ...grid, side: 'buy', start_price: '97', limit_price: '96.2', max_orders_per_batch: 1 }],
    ['short grid with bounds', { ...grid, side: 'sell', activation_bounds: 0.02, safe_extra_spread: 0.002 }],
    ['short position with a trailing stop and a limit take profit', { type: 'position', side: 'sell', amount: '1', triple_barrier: { stop_loss: 0.03, take_profit: 0.03, take_profit_order_type: 'limit', trailing_stop: { activation_price: 0.01, trailing_delta: 0.004 } } }],
    ['position opened by a limit_maker at the touch', { type: 'position', side: 'buy', amount: '1', triple_barrier: { open_order_type: 'limit_maker', stop_loss: 0.02, take_profit: 0.01 } }],
    ['dca taker levels', { type: 'dca', side: 'buy', mode: 'taker', amounts_quote: ['100', '100', '100'], prices: ['99', '97', '96.5'], stop_loss: 0.01, take_profit: 0.01 }],
  ];
  it.each(BAND_CASES)('%s: skipping the ticks inside idle bands changes nothing', (name, executor) => {
    const skipping = run(executor);
    expect(skipping.fills.length).toBeGreaterThan(0);
    if (name.includes('limit price')) expect(skipping.executors[0]!.closeType).toBe('STOP_LOSS');
    expect(skipping.executors[0]!.closeType).not.toBe('FAILED');
    expect(JSON.stringify(skipping)).toBe(JSON.stringify(run(executor, tickEveryPoint)));
  });
});
