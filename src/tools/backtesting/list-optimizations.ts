import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { paginated } from '../../core/schema.js';
import { JobListFields, jobPage, JobOut } from '../jobs/schemas.js';

export const listOptimizations = defineCommand({
  name: 'backtesting_list_optimizations',
  group: 'backtesting',
  title: 'List optimizations',
  description: 'Lists optimizations, newest first, with their status and, for ended ones, the summary (top five trials) as the job result: yours (an admin sees all).',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject(JobListFields),
  output: paginated(JobOut),
  http: { method: 'GET', path: '/backtesting/optimizations' },
  handler: async (input, ctx) => ctx.services.optimizations.list(ctx.principal, jobPage(input, ctx)),
});
