import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AppError } from '../../core/errors.js';
import { BacktestSpecFields, endNotBeforeStart } from '../../core/backtest/spec.js';
import { TimeIn } from '../../core/schema.js';
import { endedWithoutResult } from '../jobs/job-outcome.js';
import { JobOut } from '../jobs/schemas.js';
import { ConfigIdIn } from '../strategies/schemas.js';
import { SummaryOut } from './schemas.js';

const MAX_WAIT_SECONDS = 30;
const POLL_MS = 200;

/**
 * A job, not a call: a year of 1m candles takes seconds to minutes. With wait_seconds the answer holds
 * the finished summary when the run ends in time (and sends MCP progress meanwhile, when asked for).
 */
export const runBacktest = defineCommand({
  name: 'backtesting_run_backtest',
  group: 'backtesting',
  title: 'Run backtest',
  description: `Backtests one controller over one market's candles, as a background job: returns the job at once (202). The controller config is checked first (field-path errors, nothing started). Set wait_seconds (up to ${MAX_WAIT_SECONDS}) to get the summary in this answer when the run ends in time (over MCP, a run that fails meanwhile answers as an error naming the job); otherwise follow the job with backtesting_get_backtest. Candles come from sim (any range since 2015, deterministic) or the exchange through the candle cache; missing candles are reported, never filled.`,
  risk: 'write',
  idempotent: false,
  openWorld: true,
  accountScope: 'filtered',
  input: BacktestSpecFields.extend({
    controller: BacktestSpecFields.shape.controller.optional().describe('The controller to run, with its config inline; or give controller_config_id.'),
    controller_config_id: ConfigIdIn.optional().describe('A saved controller config (strategies toolset) to run instead of an inline controller.'),
    controller_config_version: z.number().int().min(1).optional().describe('A version of that config; default its current one.'),
    start: TimeIn.describe('First candle open time (epoch ms or ISO-8601).'),
    end: TimeIn.describe('Last candle open time, inclusive (epoch ms or ISO-8601); not in the future.'),
    wait_seconds: z.number().min(0).max(MAX_WAIT_SECONDS).default(0).describe('Wait up to this long for the run to end and include its summary.'),
  })
    .refine(...endNotBeforeStart)
    .superRefine((i, ctx) => {
      if (i.controller === undefined && i.controller_config_id === undefined) ctx.addIssue({ code: 'custom', path: ['controller'], message: 'give the controller to run (controller, or controller_config_id for a saved config)' });
      if (i.controller !== undefined && i.controller_config_id !== undefined) ctx.addIssue({ code: 'custom', path: ['controller'], message: 'give either controller or controller_config_id, not both' });
      if (i.controller_config_version !== undefined && i.controller_config_id === undefined) ctx.addIssue({ code: 'custom', path: ['controller_config_version'], message: 'a version of a saved config: give controller_config_id too' });
    }),
  output: z.object({ job: JobOut, summary: SummaryOut.nullable().describe('Set when the run ended within wait_seconds.') }),
  http: { method: 'POST', path: '/backtesting/run', successStatus: 202 },
  handler: async ({ wait_seconds, controller_config_id, controller_config_version, controller, ...rest }, ctx) => {
    const { backtests, controllerConfigs } = ctx.services;
    const saved = controller_config_id ? await controllerConfigs.get(ctx.principal, controller_config_id, controller_config_version) : null;
    const spec = { ...rest, controller: saved ? { name: saved.controller_name, config: saved.version.config } : controller! };
    let job = await backtests.start(spec, ctx.principal).catch((err: unknown) => {
      throw saved ? asSavedConfigError(err, saved.config_id) : err;
    });
    // Real time, not the command clock: the wait is the caller's patience, not market time.
    const waited = AbortSignal.timeout(wait_seconds * 1000);
    while ((job.status === 'queued' || job.status === 'running') && !waited.aborted) {
      await sleep(POLL_MS);
      job = await backtests.job(job.job_id, ctx.principal);
      ctx.progress?.(job.progress, job.progress_message ?? undefined);
    }
    const ended = ctx.surface.channel === 'mcp' ? endedWithoutResult(job, 'backtest') : null;
    if (ended) throw ended;
    return { job, summary: job.status === 'succeeded' ? (job.result as z.infer<typeof SummaryOut>) : null };
  },
});

/**
 * A config error of a run by saved config, at the fields the request has: a market the saved config
 * does not trade is the request's `connector` or `trading_pair`; anything else about the config is the
 * saved config's, named by `controller_config_id`.
 */
function asSavedConfigError(err: unknown, configId: string): unknown {
  const issues = err instanceof AppError && err.code === 'VALIDATION_FAILED' ? (err.details as { issues?: Array<{ path: string; message: string }> } | undefined)?.issues : undefined;
  if (!issues?.some((i) => i.path.startsWith('controller.config'))) return err;
  const where = (path: string) =>
    path === 'controller.config.connector_name' ? 'connector' : path === 'controller.config.trading_pair' ? 'trading_pair' : path.startsWith('controller.config') ? 'controller_config_id' : path;
  const moved = issues.map((i) => ({ path: where(i.path), message: i.path.startsWith('controller.config') ? `the saved config ${configId}: ${i.path.slice('controller.config'.length).replace(/^\./, '') || 'config'}: ${i.message}` : i.message }));
  return new AppError('VALIDATION_FAILED', `Invalid input: ${moved.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    hint: 'Run the saved config on the market it trades (GET /controllers/{config_id}/config shows it), or give the controller inline.',
    details: { ...(err as AppError).details as object, issues: moved },
    cause: err,
  });
}
