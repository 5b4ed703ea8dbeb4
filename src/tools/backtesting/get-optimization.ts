import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { JobIdIn, JobOut } from '../jobs/schemas.js';
import { LeaderboardOut } from './optimization-schemas.js';

export const getOptimization = defineCommand({
  name: 'backtesting_get_optimization',
  group: 'backtesting',
  title: 'Get optimization',
  description:
    'One optimization: its job (status; progress with trials done, the best so far and time left; once ended, the summary with the top five trials) and, once it ended, the leaderboard: the top_n trials with their params and full metrics, and for walk-forward each window with its winner and out-of-sample metrics. A canceled one has the trials that finished (partial: true).',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ job_id: JobIdIn }),
  output: z.object({ job: JobOut, result: LeaderboardOut.nullable().describe('Set once the job ended with a leaderboard.') }),
  http: { method: 'GET', path: '/backtesting/optimizations/{job_id}' },
  handler: async (input, ctx) => {
    const { job, record } = await ctx.services.optimizations.result(input.job_id, ctx.principal);
    if (!record) return { job, result: null };
    const { trialsDone, trialsTotal, trialsRejected, partial, leaderboard, windows } = record;
    return { job, result: { trials_done: trialsDone, trials_total: trialsTotal, trials_rejected: trialsRejected, partial, leaderboard, windows } as z.infer<typeof LeaderboardOut> };
  },
});
