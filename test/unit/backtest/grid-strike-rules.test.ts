import { describe, expect, it } from 'vitest';
import { toColumns } from '../../../src/core/backtest/candle-loader.js';
import { runBacktest, type BacktestEnv } from '../../../src/core/backtest/engine.js';
import { BacktestSpec } from '../../../src/core/backtest/spec.js';
import { ManualClock } from '../../../src/core/clock.js';
import { Decimal } from '../../../src/core/decimal.js';
import { simMarkets } from '../../../src/core/exchange/sim/markets.js';
import { SimExchange } from '../../../src/core/exchange/sim/sim-exchange.js';
import { gridStrike } from '../../../src/core/strategy/controllers/grid-strike.js';
import { createExecutor } from '../../../src/core/strategy/executors/registry.js';

const MIN = 60_000;
const START = Date.UTC(2024, 0, 1);
const END = START + 1439 * MIN;

const MARKET = { ...simMarkets('perpetual').find((m) => m.trading_pair === 'BTC-USDT')!, market_type: 'perpetual' as const };

function day() {
  const sim = new SimExchange('sim', new ManualClock(END + MIN));
  return sim.candles(sim.market('perpetual', 'BTC-USDT'), '1m', { since: START, until: END, limit: 1440 });
}

const specOf = (first: number, extra: Record<string, unknown> = {}) =>
  BacktestSpec.parse({
    controller: { name: 'grid_strike', config: { start_price: String(Math.round(first * 0.95)), end_price: String(Math.round(first * 1.05)), ...extra } },
    connector: 'sim_perpetual',
    trading_pair: 'BTC-USDT',
    start: START,
    end: END,
    resolution: '1m',
    trade_cost: 0.0002,
    initial_balances: { base: '0', quote: '10000' },
  });

describe('grid_strike backtest on a market with a coarse amount step', () => {
  it('a budget too small for one level: one grid ends FAILED saying why, and the controller does not lay another each minute', () => {
    const rows = day();
    const result = runBacktest(specOf(rows[0]!.open, { total_amount_quote: '50' }), toColumns(rows), null, { controller: () => gridStrike, createExecutor, market: MARKET });
    expect(result.executors.map((e) => e.closeType)).toEqual(['FAILED']);
    expect((result.executors[0]!.custom as { first_refusal: { reason: string } }).first_refusal.reason).toMatch(/^total_amount_quote 50 cannot fund one grid level/);
    expect(result.fills).toEqual([]);
  });

  it('lays levels the venue accepts (sim_perpetual BTC-USDT: 0.001 BTC step) instead of failing every grid', () => {
    const rows = day();
    // The controller's defaults: 1000 quote, levels at least 0.1% apart and 5 quote each (101 levels by the config alone, 0.00016 BTC each).
    const spec = specOf(rows[0]!.open);
    const env: BacktestEnv = { controller: () => gridStrike, createExecutor, market: MARKET };
    const result = runBacktest(spec, toColumns(rows), null, env);
    const grids = result.executors;
    expect(grids.length).toBeGreaterThan(0);
    expect(grids.filter((g) => g.closeType === 'FAILED')).toEqual([]);
    expect(result.fills.length).toBeGreaterThan(0);
    // Every level is a whole number of 0.001 steps, and worth at least the 5 USDT minimum at its price.
    const custom = grids[0]!.custom as { levels: string[]; level_amounts: string[] };
    expect(custom.levels.length).toBeGreaterThan(1);
    custom.level_amounts.forEach((a, i) => {
      expect(new Decimal(a).mod('0.001').isZero(), a).toBe(true);
      expect(new Decimal(a).times(custom.levels[i]!).gte(5)).toBe(true);
    });
    for (const f of result.fills) expect(new Decimal(f.amount).mod('0.001').isZero(), f.amount).toBe(true);
  });
});
