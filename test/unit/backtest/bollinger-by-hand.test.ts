import { describe, expect, it } from 'vitest';
import { bollingerByHand } from '../../../bench/lib/bollinger-by-hand.js';
import { toColumns } from '../../../src/core/backtest/candle-loader.js';
import { runBacktest } from '../../../src/core/backtest/engine.js';
import { BacktestSpec } from '../../../src/core/backtest/spec.js';
import { simMarkets } from '../../../src/core/exchange/sim/markets.js';
import { bollingerV1 } from '../../../src/core/strategy/controllers/bollinger-v1.js';
import { createExecutor } from '../../../src/core/strategy/executors/registry.js';
import { simCandleRows } from '../../helpers/sim-candles.js';

/**
 * The engine against bollinger_v1 written out by hand (bench/lib/bollinger-by-hand.ts: one loop, none
 * of the controller, executor, runtime or venue code) on weeks of sim candles: thousands of executors
 * closing every way a position closes (stop loss, trailing stop, resting take profit, time limit, one
 * still open at the end), each fill at its price to the digit. The two must agree on every fill, every
 * executor's side, times and close type, and every metric.
 */
const MIN = 60_000;
const MARKET = simMarkets('spot').find((m) => m.trading_pair === 'BTC-USDT')!;

function run(startIso: string, candles: number) {
  const start = Date.parse(startIso);
  const end = start + (candles - 1) * MIN;
  const rows = simCandleRows('spot', 'BTC-USDT', start - 100 * MIN, end);
  const cols = toColumns(rows);
  const spec = BacktestSpec.parse({
    controller: { name: 'bollinger_v1', config: { interval: '1m', total_amount_quote: '1000', bb_length: 100 } },
    connector: 'sim',
    trading_pair: 'BTC-USDT',
    start,
    end,
    resolution: '1m',
    trade_cost: 0.0002,
    initial_balances: { base: '1', quote: '100000' },
  });
  const engine = runBacktest(spec, cols, null, { controller: () => bollingerV1, createExecutor, market: MARKET });
  const hand = bollingerByHand(cols, rows.findIndex((r) => r.timestamp >= start), rows.length);
  return { engine, hand };
}

describe('the engine and bollinger_v1 by hand', () => {
  it.each([
    ['2024-01-01', 30_000],
    // Stop losses on the way down in late June.
    ['2024-06-20', 21_600],
    // Ends with a position open (marked at the last close) and starts on a signal from the warm-up.
    ['2023-07-11', 43_200],
  ])('agree on every fill, executor and metric from %s over %i candles', (startIso, candles) => {
    const { engine, hand } = run(startIso, candles);
    expect(engine.metrics.total_executors).toBeGreaterThan(300);

    const engineFills = engine.fills.map((f) => `${f.timestamp} ${f.side} ${f.price} ${f.amount} ${f.fee} ${f.is_maker}`).sort();
    const handFills = hand.fills.map((f) => `${f.time} ${f.buy ? 'buy' : 'sell'} ${f.price} ${f.amount} ${f.fee} ${f.maker}`).sort();
    expect(handFills).toEqual(engineFills);

    const executors = (xs: Array<{ createdAt: number; closedAt: number | null; side: string | null; closeType: string | null }>) =>
      xs.map((x) => `${x.createdAt} ${x.side} ${x.closedAt} ${x.closeType}`).sort();
    expect(executors(hand.executors)).toEqual(executors(engine.executors as never));

    // Sharpe and Sortino come from the per-candle PnL as doubles, which the two sum their own way.
    const { sharpe_ratio: es, sortino_ratio: eso, ...engineRest } = engine.metrics;
    const { sharpe_ratio: hs, sortino_ratio: hso, ...handRest } = hand.metrics;
    expect(handRest).toEqual(engineRest);
    expect(hs).toBeCloseTo(es!, 9);
    expect(hso).toBeCloseTo(eso!, 9);
  });

  it('covers every way a position closes across the three ranges', () => {
    const types = new Set<string>();
    for (const [s, n] of [['2024-01-01', 30_000], ['2024-06-20', 21_600], ['2023-07-11', 43_200]] as const) {
      for (const x of run(s, n).hand.executors) types.add(x.closeType ?? 'open');
    }
    expect(types).toContain('STOP_LOSS');
    expect(types).toContain('TAKE_PROFIT');
    expect(types).toContain('TRAILING_STOP');
    expect(types).toContain('TIME_LIMIT');
    expect(types).toContain('open');
  });
});
