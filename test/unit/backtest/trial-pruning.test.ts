import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { toColumns } from '../../../src/core/backtest/candle-loader.js';
import { runBacktest, type BacktestEnv } from '../../../src/core/backtest/engine.js';
import { BacktestSpec } from '../../../src/core/backtest/spec.js';
import { simMarkets } from '../../../src/core/exchange/sim/markets.js';
import { defineController } from '../../../src/core/strategy/controller.js';
import { SHIPPED_CONTROLLERS } from '../../../src/core/strategy/controllers/index.js';
import { createExecutor } from '../../../src/core/strategy/executors/registry.js';
import { simCandleRows } from '../../helpers/sim-candles.js';

/**
 * A run that lists no executor (an optimization trial) drops the ended executors of a controller that
 * declares it reads only its active ones (DataNeeds.executors 'active'). The metrics must be those of
 * the same run keeping everything, and a controller that declares so and reads `executors` anyway is
 * told, not silently shown a shortened list.
 */
const MIN = 60_000;
const START = Date.UTC(2024, 0, 1);
const END = START + 10 * 1440 * MIN - MIN;
const MARKET = simMarkets('spot').find((m) => m.trading_pair === 'BTC-USDT')!;

const rows = simCandleRows('spot', 'BTC-USDT', START - 200 * MIN, END);
const cols = toColumns(rows);
const first = rows.find((r) => r.timestamp >= START)!.open;

/** Configs that make many executors in ten days. */
const CONFIGS: Record<string, Record<string, unknown>> = {
  bollinger_v1: { interval: '1m', bb_length: 20, bb_std: 1, total_amount_quote: '1000' },
  macd_bb_v1: { interval: '1m', bb_length: 20, bb_std: 1, total_amount_quote: '1000' },
  supertrend_v1: { interval: '1m', length: 10, multiplier: 1, percentage_threshold: 0.05, total_amount_quote: '1000' },
  dca_v1: { total_amount_quote: '1000', time_limit: 1800, executor_refresh_time: 600 },
  grid_strike: { start_price: String(Math.round(first * 0.97)), end_price: String(Math.round(first * 1.03)), total_amount_quote: '1000', time_limit: 300 },
};

const specOf = (name: string, config: Record<string, unknown>) =>
  BacktestSpec.parse({
    controller: { name, config },
    connector: 'sim',
    trading_pair: 'BTC-USDT',
    start: START,
    end: END,
    resolution: '1m',
    trade_cost: 0.0004,
    initial_balances: { base: '1', quote: '100000' },
  });

describe('a run listing no executors, of a controller that reads only its active ones', () => {
  const activeOnly = SHIPPED_CONTROLLERS.filter((d) => d.data(d.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT', ...CONFIGS[d.name] })).executors === 'active');

  it('covers the directional controllers, DCA and the grid; the market makers read ended executors', () => {
    expect(activeOnly.map((d) => d.name).sort()).toEqual(['bollinger_v1', 'dca_v1', 'grid_strike', 'macd_bb_v1', 'supertrend_v1']);
  });

  for (const name of Object.keys(CONFIGS)) {
    it(`${name}: has the metrics of the run that keeps every executor`, () => {
      const env: BacktestEnv = { controller: (n) => SHIPPED_CONTROLLERS.find((d) => d.name === n), createExecutor, market: MARKET };
      const s = specOf(name, CONFIGS[name]!);
      const full = runBacktest(s, cols, null, env);
      const trial = runBacktest(s, cols, null, { ...env, limits: { executors: 0, fills: 0 } });
      expect(full.metrics.total_executors).toBeGreaterThan(20);
      expect(trial.metrics).toEqual(full.metrics);
      expect(trial.final_balances).toEqual(full.final_balances);
      expect(trial.series).toEqual(full.series);
      expect(trial.executors).toEqual([]);
      expect(trial.unlisted).toEqual({ executors: full.executors.length, fills: full.fills.length });
    });
  }

  it('a controller that declares it and reads `executors` anyway fails the run, saying what to declare', () => {
    const peeking = defineController({
      name: 'peeking_v1',
      type: 'generic',
      description: 'Declares it reads active executors only, then reads them all (tests only).',
      config: z.object({ connector_name: z.string(), trading_pair: z.string() }),
      data: () => ({ candles: [], quotes: [], executors: 'active' }),
      warmupBars: () => 0,
      create: () => ({ update: (view) => (view.executors.length >= 0 ? [] : []) }),
    });
    const env: BacktestEnv = { controller: () => peeking, createExecutor, market: MARKET };
    expect(() => runBacktest(specOf('peeking_v1', {}), cols, null, env)).toThrow(/read view\.executors, but its data\(\) declares executors: 'active'/);
  });
});
