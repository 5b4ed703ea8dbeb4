import type { BacktestMetrics } from '../../../src/core/backtest/metrics.js';

/** Metrics of a backtest that did nothing: the base tests override the fields they rank on. */
export function emptyMetrics(): BacktestMetrics {
  return {
    net_pnl_quote: '0',
    net_pnl_pct: 0,
    total_executors: 0,
    total_positions: 0,
    total_volume_quote: '0',
    total_fees_quote: '0',
    accuracy: null,
    accuracy_long: null,
    accuracy_short: null,
    win_rate: null,
    profit_factor: null,
    max_drawdown_quote: 0,
    max_drawdown_pct: 0,
    sharpe_ratio: null,
    sortino_ratio: null,
    calmar_ratio: null,
    exposure: null,
    close_types: {},
  };
}
