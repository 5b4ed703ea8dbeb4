import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { paginated } from '../../core/schema.js';
import { JobListFields, jobPage, JobOut } from '../jobs/schemas.js';

export const listBacktests = defineCommand({
  name: 'backtesting_list_backtests',
  group: 'backtesting',
  title: 'List backtests',
  description: 'Lists backtests, newest first, with their status and, for finished ones, the summary as the job result: yours (an admin sees all).',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject(JobListFields),
  output: paginated(JobOut),
  http: { method: 'GET', path: '/backtesting/results' },
  handler: async (input, ctx) => ctx.services.backtests.list(ctx.principal, jobPage(input, ctx)),
});
