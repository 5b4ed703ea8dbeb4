import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { toColumns } from '../../src/core/backtest/candle-loader.js';
import { BacktestSpec } from '../../src/core/backtest/spec.js';
import type { BacktestWorkerInput } from '../../src/core/backtesting/pool-worker.js';
import { StrategyPool } from '../../src/core/backtesting/worker-pool.js';
import { ManualClock } from '../../src/core/clock.js';
import { AppError } from '../../src/core/errors.js';
import { simMarkets } from '../../src/core/exchange/sim/markets.js';
import { SimExchange } from '../../src/core/exchange/sim/sim-exchange.js';
import type { CandleRow } from '../../src/core/exchange/types.js';

/**
 * An error inside a pool worker reaches the server with only its message: what a job shows of a failed
 * run must still be the run's own code, message and hint, not "unexpected error".
 */
const MIN = 60_000;
const START = Date.UTC(2024, 0, 1);
const END = START + 1439 * MIN;

const module = (name: string, executors: string, update: string) => `export default ({ z }) => ({
  name: '${name}',
  type: 'generic',
  description: 'A controller that fails (tests only).',
  config: z.strictObject({ connector_name: z.string().default('sim'), trading_pair: z.string().default('BTC-USDT') }),
  data: (c) => ({ candles: [], quotes: [{ connector: c.connector_name, tradingPair: c.trading_pair }], executors: '${executors}' }),
  warmupBars: () => 0,
  create: () => ({ update: (view) => { ${update} } }),
});
`;

function input(name: string, file: string): BacktestWorkerInput {
  const sim = new SimExchange('sim', new ManualClock(END + MIN));
  const rows: CandleRow[] = sim.candles(sim.market('spot', 'BTC-USDT'), '1m', { since: START, until: END, limit: 1440 });
  const spec = BacktestSpec.parse({ controller: { name, config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: START, end: END, resolution: '1m' });
  return { spec, columns: toColumns(rows), market: simMarkets('spot').find((x) => x.trading_pair === 'BTC-USDT')!, controllerModule: pathToFileURL(file).href };
}

describe('an operator controller that fails inside a pool worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'td-pool-errors-'));
  const pool = new StrategyPool({ maxThreads: 1, idleTimeoutMs: 5_000 });
  afterAll(async () => {
    await pool.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reading ended executors it declared it does not read: the runtime says which declaration to change', async () => {
    const file = join(dir, 'peek.mjs');
    writeFileSync(file, module('peek_v1', 'active', 'return view.executors.length > 5 ? [] : [];'));
    const err = await pool.run({ name: 'backtest', input: input('peek_v1', file) }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/read view\.executors, but its data\(\) declares executors: 'active'/), hint: expect.stringMatching(/^Declare executors: 'all'/) });
  }, 60_000);

  it('throwing in update: the module and its error are named, as the operator\'s code', async () => {
    const file = join(dir, 'broken.mjs');
    writeFileSync(file, module('broken_v1', 'all', 'return view.nothing.here;'));
    const err = await pool.run({ name: 'trials', input: { ...input('broken_v1', file), trials: [{ trial: 0, config: {}, start: START, end: END }] } }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining(`The controller module ${file} failed: Cannot read properties of undefined`), hint: expect.stringMatching(/operator's code/) });
  }, 60_000);
});
