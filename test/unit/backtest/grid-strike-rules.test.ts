import { describe, expect, it } from 'vitest';
import { toColumns } from '../../../src/core/backtest/candle-loader.js';
import { runBacktest, type BacktestEnv } from '../../../src/core/backtest/engine.js';
import { BacktestSpec } from '../../../src/core/backtest/spec.js';
import { ManualClock } from '../../../src/core/clock.js';
import { simMarkets } from '../../../src/core/exchange/sim/markets.js';
import { SimExchange } from '../../../src/core/exchange/sim/sim-exchange.js';
import { gridStrike } from '../../../src/core/strategy/controllers/grid-strike.js';
import { createExecutor } from '../../../src/core/strategy/executors/registry.js';

const MIN = 60_000;
const START = Date.UTC(2024, 0, 1);
const END = START + 1439 * MIN;

describe('grid_strike backtest on a market with a coarse amount step', () => {
  it('lays levels the venue accepts (sim_perpetual BTC-USDT: 0.001 BTC step) instead of failing every grid', () => {
    const sim = new SimExchange('sim', new ManualClock(END + MIN));
    const rows = sim.candles(sim.market('perpetual', 'BTC-USDT'), '1m', { since: START, until: END, limit: 1440 });
    const first = rows[0]!.open;
    const market = { ...simMarkets('perpetual').find((m) => m.trading_pair === 'BTC-USDT')!, market_type: 'perpetual' as const };
    const env: BacktestEnv = { controller: () => gridStrike, createExecutor, market };
    const spec = BacktestSpec.parse({
      // The controller's defaults: 1000 quote, levels at least 0.1% apart and 5 quote each (101 levels by the config alone, 0.00016 BTC each).
      controller: { name: 'grid_strike', config: { start_price: String(Math.round(first * 0.95)), end_price: String(Math.round(first * 1.05)) } },
      connector: 'sim_perpetual',
      trading_pair: 'BTC-USDT',
      start: START,
      end: END,
      resolution: '1m',
      trade_cost: 0.0002,
      initial_balances: { base: '0', quote: '10000' },
    });
    const result = runBacktest(spec, toColumns(rows), null, env);
    const grids = result.executors;
    expect(grids.length).toBeGreaterThan(0);
    expect(grids.filter((g) => g.closeType === 'FAILED')).toEqual([]);
    expect(result.fills.length).toBeGreaterThan(0);
    // Every level is a whole number of 0.001 steps, and worth at least the 5 USDT minimum at its price.
    const custom = grids[0]!.custom as { levels: string[]; level_amounts: string[] };
    expect(custom.levels.length).toBeGreaterThan(1);
    custom.level_amounts.forEach((a, i) => {
      expect(Number.isInteger(Number(a) * 1000)).toBe(true);
      expect(Number(a) * Number(custom.levels[i])).toBeGreaterThanOrEqual(5);
    });
    for (const f of result.fills) expect(Number.isInteger(Math.round(Number(f.amount) * 1e6) / 1000)).toBe(true);
  });
});
