import type { BacktestMarket } from '../backtest/sim-venue.js';
import type { ControllerDefinition } from '../strategy/controller.js';
import { createExecutor } from '../strategy/executors/registry.js';
import type { CandleColumns } from '../backtest/candle-loader.js';
import { type BacktestResult, runBacktest } from '../backtest/engine.js';
import type { BacktestSpec } from '../backtest/spec.js';

/**
 * One backtest as a pool task: what crosses into the worker (the parsed spec, the candle columns moved
 * without a copy, the market's rules) and the call that runs it there. Kept apart from the pool so a
 * test can run the very same function on the main thread.
 */
export interface BacktestTaskInput {
  spec: BacktestSpec;
  columns: CandleColumns;
  market: BacktestMarket;
}

/** Posted by the worker while it runs: candles of the range done so far. */
export interface BacktestTaskProgress {
  done: number;
  total: number;
}

export function runBacktestTask(
  input: BacktestTaskInput,
  controllers: (name: string) => ControllerDefinition | undefined,
  onProgress: ((p: BacktestTaskProgress) => void) | null,
): BacktestResult {
  return runBacktest(input.spec, input.columns, onProgress && ((done, total) => onProgress({ done, total })), {
    controller: controllers,
    createExecutor,
    market: input.market,
  });
}
