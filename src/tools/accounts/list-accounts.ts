import { z } from 'zod';
import { defineCommand, inScope } from '../../core/command/index.js';
import { Cursor, Limit, pageOf, paginated } from '../../core/schema.js';
import { AccountOut } from './schemas.js';

export const listAccounts = defineCommand({
  name: 'accounts_list_accounts',
  group: 'accounts',
  title: 'List accounts',
  description:
    'Lists the trading accounts and the connectors attached to each (credentials masked). Use an account_name from here when reading balances or placing orders; "master_account" exists from the first start with paper balances on "sim".',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ limit: Limit, cursor: Cursor }),
  output: paginated(AccountOut),
  http: { method: 'GET', path: '/accounts' },
  handler: async (input, ctx) => pageOf((await ctx.services.accounts.list()).filter((a) => inScope(ctx.principal, a.account_name)), input.limit ?? 100, input.cursor),
});
