import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import type { BacktestResult } from '../../core/backtest/engine.js';
import { thinSeries } from '../../core/backtest/thin-series.js';
import { JobIdIn, JobOut } from '../jobs/schemas.js';

export const getBacktest = defineCommand({
  name: 'backtesting_get_backtest',
  group: 'backtesting',
  title: 'Get backtest result',
  description:
    'One backtest: its job (status, progress with candles done and time left) and, once it succeeded, the full result: every executor with its close type and PnL, every fill, the PnL, position and price series (thinned to at most 5,000 points; 250 over MCP), missing-candle gaps and the metrics. Large; backtesting_get_backtest_metrics is the short form.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ job_id: JobIdIn }),
  output: z.object({ job: JobOut, result: z.record(z.string(), z.unknown()).nullable().describe('Set when the job succeeded.') }),
  http: { method: 'GET', path: '/backtesting/results/{job_id}' },
  handler: async (input, ctx) => {
    const { job, record } = await ctx.services.backtests.result(input.job_id, ctx.principal);
    const result = (record?.result ?? null) as Record<string, unknown> | null;
    // A model gets the series at a glance's resolution, its four lists still aligned (a cut to size would cut them apart).
    if (result && ctx.surface.channel === 'mcp' && result.series) return { job, result: { ...result, series: thinSeries(result.series as BacktestResult['series'], MODEL_SERIES_POINTS) } };
    return { job, result };
  },
});

/** Series points a model gets (REST keeps the stored 5,000). */
const MODEL_SERIES_POINTS = 250;
