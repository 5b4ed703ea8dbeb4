import { deleteBacktest } from './delete-backtest.js';
import { getBacktest } from './get-backtest.js';
import { getBacktestMetrics } from './get-backtest-metrics.js';
import { listBacktests } from './list-backtests.js';
import { runBacktest } from './run-backtest.js';

export const backtestingCommands = [runBacktest, getBacktest, getBacktestMetrics, listBacktests, deleteBacktest];
