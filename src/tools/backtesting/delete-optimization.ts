import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { JobIdIn } from '../jobs/schemas.js';

export const deleteOptimization = defineCommand({
  name: 'backtesting_delete_optimization',
  group: 'backtesting',
  title: 'Delete optimization',
  description: 'Deletes an ended optimization: its job and its leaderboard. A queued or running one must be canceled first (jobs_cancel_job).',
  risk: 'write',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ job_id: JobIdIn }),
  output: z.object({ deleted: z.literal(true), job_id: z.string() }),
  http: { method: 'DELETE', path: '/backtesting/optimizations/{job_id}' },
  handler: async (input, ctx) => {
    await ctx.services.optimizations.remove(input.job_id, ctx.principal);
    return { deleted: true as const, job_id: input.job_id };
  },
});
