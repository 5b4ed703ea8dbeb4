import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { JobIdIn, JobOut } from '../jobs/schemas.js';

export const getBacktest = defineCommand({
  name: 'backtesting_get_backtest',
  group: 'backtesting',
  title: 'Get backtest result',
  description:
    'One backtest: its job (status, progress with candles done and time left) and, once it succeeded, the full result: every executor with its close type and PnL, every fill, the PnL, position and price series (thinned to at most 5,000 points), missing-candle gaps and the metrics. Large; backtesting_get_backtest_metrics is the short form.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ job_id: JobIdIn }),
  output: z.object({ job: JobOut, result: z.record(z.string(), z.unknown()).nullable().describe('Set when the job succeeded.') }),
  http: { method: 'GET', path: '/backtesting/results/{job_id}' },
  handler: async (input, ctx) => {
    const { job, record } = await ctx.services.backtests.result(input.job_id, ctx.principal);
    return { job, result: record?.result ?? null };
  },
});
