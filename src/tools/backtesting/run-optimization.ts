import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { endNotBeforeStart } from '../../core/backtest/spec.js';
import { BacktestSpecFields } from '../../core/backtest/spec.js';
import { MAX_TRIALS, OptimizationFields } from '../../core/backtest/optimization-spec.js';
import { TimeIn } from '../../core/schema.js';
import { endedWithoutResult } from '../jobs/job-outcome.js';
import { JobOut } from '../jobs/schemas.js';
import { OptimizationSummaryOut } from './optimization-schemas.js';

const MAX_WAIT_SECONDS = 30;
const POLL_MS = 200;

export const runOptimization = defineCommand({
  name: 'backtesting_run_optimization',
  group: 'backtesting',
  title: 'Run optimization',
  description: `Searches a controller's config for the best backtest, as a background job (202). Give a base backtest (as backtesting_run_backtest takes it), a space over config fields (a range {min, max, step} or {values}; nested fields by dotted path), a search (grid, random, walk_forward), an objective (a metric to maximize or minimize) and constraints. Every trial config is checked first (field-path errors, nothing started); more than max_trials (at most ${MAX_TRIALS}) is refused. Follow it with backtesting_get_optimization; jobs_cancel_job keeps the trials done as a partial leaderboard.`,
  risk: 'write',
  idempotent: false,
  openWorld: true,
  accountScope: 'filtered',
  input: OptimizationFields.extend({
    backtest: BacktestSpecFields.extend({
      start: TimeIn.describe('First candle open time (epoch ms or ISO-8601).'),
      end: TimeIn.describe('Last candle open time, inclusive (epoch ms or ISO-8601); not in the future.'),
    })
      .refine(...endNotBeforeStart)
      .describe('The base backtest; its controller.config holds the values of the fields the space leaves alone.'),
    wait_seconds: z.number().min(0).max(MAX_WAIT_SECONDS).default(0).describe('Wait up to this long for the run to end and include its summary (over MCP, a run that fails meanwhile answers as an error naming the job).'),
  }),
  output: z.object({ job: JobOut, summary: OptimizationSummaryOut.nullable().describe('Set when the run ended within wait_seconds.') }),
  http: { method: 'POST', path: '/backtesting/optimize', successStatus: 202 },
  handler: async ({ wait_seconds, ...spec }, ctx) => {
    const { optimizations } = ctx.services;
    let job = await optimizations.start(spec, ctx.principal);
    const waited = AbortSignal.timeout(wait_seconds * 1000);
    while ((job.status === 'queued' || job.status === 'running') && !waited.aborted) {
      await sleep(POLL_MS);
      job = await optimizations.job(job.job_id, ctx.principal);
      ctx.progress?.(job.progress, job.progress_message ?? undefined);
    }
    const ended = ctx.surface.channel === 'mcp' ? endedWithoutResult(job, 'optimization') : null;
    if (ended) throw ended;
    return { job, summary: job.status === 'succeeded' ? (job.result as z.infer<typeof OptimizationSummaryOut>) : null };
  },
});
