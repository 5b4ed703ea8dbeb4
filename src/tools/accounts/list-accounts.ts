import { z } from 'zod';
import { defineCommand, inScope } from '../../core/command/index.js';
import { pageOf, paginated } from '../../core/schema.js';
import { AccountOut } from './schemas.js';
import { pageLimit, PageCursor, PageLimit } from '../../core/pagination.js';

export const listAccounts = defineCommand({
  name: 'accounts_list_accounts',
  group: 'accounts',
  title: 'List accounts',
  description:
    'The trading accounts and their connectors (credentials masked). "master_account" exists from the start, with paper balances on "sim".',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ limit: PageLimit, cursor: PageCursor }),
  output: paginated(AccountOut),
  http: { method: 'GET', path: '/accounts' },
  handler: async (input, ctx) => pageOf((await ctx.services.accounts.list()).filter((a) => inScope(ctx.principal, a.account_name)), pageLimit(input.limit, ctx), input.cursor),
});
