import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';
import { paginated } from '../../core/schema.js';
import { JobOut, JobStatus } from '../jobs/schemas.js';

export const listOptimizations = defineCommand({
  name: 'backtesting_list_optimizations',
  group: 'backtesting',
  title: 'List optimizations',
  description: 'Lists optimizations, newest first, with their status and, for ended ones, the summary (top five trials) as the job result: yours (an admin sees all).',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({
    status: JobStatus.optional(),
    limit: PageLimit,
    cursor: z.string().max(200).optional().describe("The previous page's pagination.next_cursor."),
  }),
  output: paginated(JobOut),
  http: { method: 'GET', path: '/backtesting/optimizations' },
  handler: async (input, ctx) => ctx.services.optimizations.list(ctx.principal, { limit: pageLimit(input.limit, ctx), ...(input.cursor ? { cursor: input.cursor } : {}), ...(input.status ? { status: input.status } : {}) }),
});
