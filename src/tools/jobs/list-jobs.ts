import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { paginated } from '../../core/schema.js';
import { JobListFields, jobPage, JobOut } from './schemas.js';

export const listJobs = defineCommand({
  name: 'jobs_list_jobs',
  group: 'jobs',
  title: 'List jobs',
  description: 'Lists background jobs (backfills and other long work), newest first: yours (an admin sees all). Filter by kind or status.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({
    kind: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a job kind such as candle_backfill').optional().describe('e.g. "candle_backfill".'),
    ...JobListFields,
  }),
  output: paginated(JobOut),
  http: { method: 'GET', path: '/jobs' },
  handler: async (input, ctx) => ctx.services.jobs.list(ctx.principal, { kind: input.kind, ...jobPage(input, ctx) }),
});
