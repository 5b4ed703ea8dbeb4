import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';
import { AccountName, paginated } from '../../core/schema.js';
import { EXECUTOR_ROW_STATUSES } from '../../core/db/schema/index.js';
import { ExecutorCursor, ExecutorOut, ExecutorType, executorView } from './schemas.js';

export const listExecutors = defineCommand({
  name: 'executors_list_executors',
  group: 'executors',
  title: 'List executors',
  description: 'Lists executors, newest first, with their status, close type and PnL so far. Filter by account, status ("running" = not yet terminated) or type.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({
    account_name: AccountName.optional().describe('Only this account.'),
    status: z.enum(['running', ...EXECUTOR_ROW_STATUSES]).optional().describe('running: active or shutting_down; or one status.'),
    executor_type: ExecutorType.optional(),
    limit: PageLimit,
    cursor: ExecutorCursor,
  }),
  output: paginated(ExecutorOut),
  http: { method: 'GET', path: '/executors' },
  handler: async (input, ctx) => {
    const { executors } = ctx.services;
    const page = await executors.store.list({ accounts: scopeList(ctx.principal), account_name: input.account_name, status: input.status, type: input.executor_type, limit: pageLimit(input.limit, ctx), cursor: input.cursor });
    return { data: page.data.map((row) => executorView(row, executors.liveReport(row.id))), pagination: page.pagination };
  },
});
