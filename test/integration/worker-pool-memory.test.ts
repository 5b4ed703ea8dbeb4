import { afterAll, describe, expect, it } from 'vitest';
import { toColumns } from '../../src/core/backtest/candle-loader.js';
import { BacktestSpec } from '../../src/core/backtest/spec.js';
import type { BacktestWorkerInput } from '../../src/core/backtesting/pool-worker.js';
import { StrategyPool } from '../../src/core/backtesting/worker-pool.js';
import type { StoredBacktest } from '../../src/core/backtest/stored-result.js';
import { ManualClock } from '../../src/core/clock.js';
import { AppError } from '../../src/core/errors.js';
import { simMarkets } from '../../src/core/exchange/sim/markets.js';
import { SimExchange } from '../../src/core/exchange/sim/sim-exchange.js';
import type { CandleRow } from '../../src/core/exchange/types.js';

const MIN = 60_000;
const START = Date.UTC(2024, 0, 1);

/** A pmm_simple backtest task over `days` of sim 1m candles: a market maker opens an executor per level and refresh. */
function task(days: number): { name: string; input: BacktestWorkerInput; transfer: ArrayBuffer[] } {
  const end = START + days * 1440 * MIN - MIN;
  const sim = new SimExchange('sim', new ManualClock(end + 3_600_000));
  const m = sim.market('spot', 'BTC-USDT');
  const rows: CandleRow[] = [];
  for (let s = START - 1000 * MIN; s <= end; s += 1000 * MIN) rows.push(...sim.candles(m, '1m', { since: s, until: Math.min(end, s + 999 * MIN), limit: 1000 }));
  const columns = toColumns(rows);
  const spec = BacktestSpec.parse({ controller: { name: 'pmm_simple', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: START, end, resolution: '1m' });
  const market = simMarkets('spot').find((x) => x.trading_pair === 'BTC-USDT')!;
  return { name: 'backtest', input: { spec, columns, market }, transfer: [columns.time, columns.open, columns.high, columns.low, columns.close, columns.volume].map((a) => a.buffer as ArrayBuffer) };
}

describe('a strategy pool worker over its heap limit', () => {
  const pool = new StrategyPool({ maxThreads: 1, idleTimeoutMs: 5_000, maxHeapMb: 64 });
  afterAll(() => pool.stop());

  it('ends that run with a clear error, and the pool runs the next one', async () => {
    const err = await pool.run<BacktestWorkerInput, StoredBacktest>(task(60)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'The run needed more memory than a worker may use (64 MB) and was stopped.' });
    const small = await pool.run<BacktestWorkerInput, StoredBacktest>(task(1));
    expect(small.summary.candles).toBe(1440);
  }, 120_000);
});
