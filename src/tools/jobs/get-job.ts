import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { JobIdIn, JobOut } from './schemas.js';

export const getJob = defineCommand({
  name: 'jobs_get_job',
  group: 'jobs',
  title: 'Get job',
  description: 'One background job: its status, progress, and the result or error once it ends. Poll it every few seconds while it is queued or running.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ job_id: JobIdIn }),
  output: z.object({ job: JobOut }),
  http: { method: 'GET', path: '/jobs/{job_id}' },
  handler: async (input, ctx) => ({ job: await ctx.services.jobs.get(input.job_id, ctx.principal) }),
});
