import { z } from 'zod';
import { METRIC_NAMES } from '../../core/backtest/optimization-spec.js';
import { MetricsOut } from './schemas.js';

const Params = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])).describe('The space point: config field path → value.');
const SegmentOut = z.object({ start: z.number().describe('epoch ms'), end: z.number().describe('epoch ms, last candle open time') });

export const ObjectiveOut = z.object({ metric: z.enum(METRIC_NAMES), direction: z.enum(['maximize', 'minimize']) });

export const OptimizationSummaryOut = z.object({
  result_id: z.string().describe('The job id; GET /backtesting/optimizations/{id} has the leaderboard.'),
  trials_done: z.number().int(),
  trials_total: z.number().int(),
  trials_rejected: z.number().int().describe('Trials that broke a constraint or had no objective value.'),
  partial: z.boolean().describe('Canceled before every trial ran; the ranking covers the trials that did.'),
  objective: ObjectiveOut,
  top: z
    .array(
      z.object({
        rank: z.number().int(),
        trial: z.number().int(),
        params: Params,
        objective_value: z.number().nullable(),
        metrics: z.record(z.string(), z.unknown()).describe('net_pnl_quote, net_pnl_pct, max_drawdown_pct, sharpe_ratio, win_rate, profit_factor, total_executors.'),
      }),
    )
    .describe('The best five trials.'),
  windows: z
    .array(z.object({ window: z.number().int(), params: Params.nullable(), in_sample_value: z.number().nullable(), out_of_sample_value: z.number().nullable() }))
    .nullable()
    .describe('Walk-forward only: each window’s winner, its objective in sample and out of sample.'),
  out_of_sample_mean: z.number().nullable().describe('Walk-forward only: mean out-of-sample objective of the winners.'),
});

export const LeaderboardOut = z.object({
  trials_done: z.number().int(),
  trials_total: z.number().int(),
  trials_rejected: z.number().int(),
  partial: z.boolean(),
  leaderboard: z.array(z.object({ rank: z.number().int(), trial: z.number().int(), params: Params, metrics: MetricsOut })).describe('Best first, top_n trials (for walk-forward: the newest window’s in-sample fit).'),
  windows: z
    .array(
      z.object({
        window: z.number().int(),
        in_sample: SegmentOut,
        out_of_sample: SegmentOut,
        params: Params.nullable().describe('The in-sample winner; null when no point met the constraints.'),
        in_sample_metrics: MetricsOut.nullable(),
        out_of_sample_metrics: MetricsOut.nullable(),
      }),
    )
    .nullable(),
});
