import { afterAll, describe, expect, it } from 'vitest';
import { toColumns } from '../../src/core/backtest/candle-loader.js';
import { BacktestSpec } from '../../src/core/backtest/spec.js';
import type { BacktestWorkerInput } from '../../src/core/backtesting/pool-worker.js';
import { StrategyPool } from '../../src/core/backtesting/worker-pool.js';
import type { StoredBacktest } from '../../src/core/backtest/stored-result.js';
import { AppError } from '../../src/core/errors.js';
import { simMarkets } from '../../src/core/exchange/sim/markets.js';
import { simCandleRows } from '../helpers/sim-candles.js';

const MIN = 60_000;
const START = Date.UTC(2024, 0, 1);

/** A pmm_simple backtest task over `days` of sim 1m candles: a market maker opens an executor per level and refresh. */
function task(days: number): { name: string; input: BacktestWorkerInput; transfer: ArrayBuffer[] } {
  const end = START + days * 1440 * MIN - MIN;
  const columns = toColumns(simCandleRows('spot', 'BTC-USDT', START - 1000 * MIN, end));
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
