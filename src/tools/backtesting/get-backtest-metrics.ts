import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AppError } from '../../core/errors.js';
import { JobIdIn } from '../jobs/schemas.js';
import { SummaryOut } from './schemas.js';

export const getBacktestMetrics = defineCommand({
  name: 'backtesting_get_backtest_metrics',
  group: 'backtesting',
  title: 'Get backtest metrics',
  description: 'The summary of a finished backtest: net PnL, drawdown, Sharpe, Sortino, Calmar, win rate, profit factor, exposure, fees, close types, the best and worst executors and a 60-point equity curve. Each metric is defined in docs/backtesting-metrics.md.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ job_id: JobIdIn }),
  output: z.object({ summary: SummaryOut }),
  http: { method: 'GET', path: '/backtesting/metrics/{job_id}' },
  handler: async (input, ctx) => {
    const job = await ctx.services.backtests.job(input.job_id, ctx.principal);
    if (job.status !== 'succeeded') {
      throw new AppError('PRECONDITION_FAILED', `Backtest ${input.job_id} is ${job.status}; metrics exist once it succeeded.`, {
        hint: job.status === 'queued' || job.status === 'running' ? 'Poll backtesting_get_backtest until it ends.' : 'Run it again with backtesting_run_backtest.',
        details: { job_id: input.job_id, status: job.status, error: job.error },
      });
    }
    return { summary: job.result as z.infer<typeof SummaryOut> };
  },
});
