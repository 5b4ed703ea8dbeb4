import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { JobIdIn, JobOut } from './schemas.js';

export const cancelJob = defineCommand({
  name: 'jobs_cancel_job',
  group: 'jobs',
  title: 'Cancel job',
  description:
    'Cancels a queued or running job. A queued one ends canceled at once; a running one stops at its next step and ends canceled, keeping any partial result. A job that already ended is a CONFLICT.',
  risk: 'write',
  idempotent: false,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ job_id: JobIdIn }),
  output: z.object({ job: JobOut }),
  http: { method: 'POST', path: '/jobs/{job_id}/cancel' },
  handler: async (input, ctx) => ({ job: await ctx.services.jobs.cancel(input.job_id, ctx.principal) }),
});
