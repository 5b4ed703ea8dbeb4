import { createOptimizedConfig } from './create-optimized-config.js';
import { deleteBacktest } from './delete-backtest.js';
import { deleteOptimization } from './delete-optimization.js';
import { getBacktest } from './get-backtest.js';
import { getBacktestMetrics } from './get-backtest-metrics.js';
import { getOptimization } from './get-optimization.js';
import { listBacktests } from './list-backtests.js';
import { listOptimizations } from './list-optimizations.js';
import { runBacktest } from './run-backtest.js';
import { runOptimization } from './run-optimization.js';

export const backtestingCommands = [runBacktest, getBacktest, getBacktestMetrics, listBacktests, deleteBacktest, runOptimization, getOptimization, listOptimizations, deleteOptimization, createOptimizedConfig];
