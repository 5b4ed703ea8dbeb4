import { describe, expect, it } from 'vitest';
import { toColumns } from '../../../src/core/backtest/candle-loader.js';
import { runBacktest, seriesThinned } from '../../../src/core/backtest/engine.js';
import { BacktestSpec } from '../../../src/core/backtest/spec.js';
import { thinSeries } from '../../../src/core/backtest/thin-series.js';
import { simMarkets } from '../../../src/core/exchange/sim/markets.js';
import { SHIPPED_CONTROLLERS } from '../../../src/core/strategy/controllers/index.js';
import { createExecutor } from '../../../src/core/strategy/executors/registry.js';
import { simCandleRows } from '../../helpers/sim-candles.js';

/**
 * A stored result keeps the series thinned to a few thousand points, read from the run's states without
 * building every candle's point (seriesThinned). It must be the very series that thinning the full one
 * gives, on spot and on a perpetual (whose PnL adds each side's unrealised PnL), before and after the
 * full series was read.
 */
const MIN = 60_000;
const START = Date.UTC(2024, 2, 1);
const END = START + 3 * 1440 * MIN - MIN;

function run(connector: 'sim' | 'sim_perpetual') {
  const type = connector === 'sim' ? 'spot' : 'perpetual';
  const rows = simCandleRows(type, 'BTC-USDT', START - 200 * MIN, END);
  const spec = BacktestSpec.parse({
    controller: { name: 'bollinger_v1', config: { interval: '1m', bb_length: 20, bb_std: 1, total_amount_quote: '5000' } },
    connector,
    trading_pair: 'BTC-USDT',
    start: START,
    end: END,
    initial_balances: { base: '0', quote: '100000' },
  });
  const market = simMarkets(type).find((x) => x.trading_pair === 'BTC-USDT')!;
  return runBacktest(spec, toColumns(rows), null, { controller: (n) => SHIPPED_CONTROLLERS.find((d) => d.name === n), createExecutor, market });
}

describe('a result series thinned from the run', () => {
  it.each(['sim', 'sim_perpetual'] as const)('equals the full series thinned, on %s', (connector) => {
    const lazy = run(connector);
    const early = [60, 1000, 5000].map((max) => seriesThinned(lazy, max));
    expect(lazy.metrics.total_executors).toBeGreaterThan(20);
    expect(early[0]!.pnl.some((p) => p !== 0)).toBe(true);
    expect(early[0]!.position.some((p) => p !== 0)).toBe(true);

    const full = run(connector).series;
    expect(full.time).toHaveLength(3 * 1440);
    expect(early).toEqual([60, 1000, 5000].map((max) => thinSeries(full, max)));
    // Once the series was read, it is what gets thinned: the same figures either way.
    expect(lazy.series).toEqual(full);
    expect(seriesThinned(lazy, 1000)).toEqual(thinSeries(full, 1000));
  });
});
