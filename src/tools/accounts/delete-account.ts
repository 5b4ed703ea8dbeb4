import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountName } from '../../core/schema.js';

export const deleteAccount = defineCommand({
  name: 'accounts_delete_account',
  group: 'accounts',
  title: 'Delete account',
  description: 'Deletes an account with its credentials, paper balances and order history. Refused (409) while it has open orders, active executors, open positions or running bots. master_account cannot be deleted. Admin only, REST only.',
  risk: 'admin',
  destructive: true,
  idempotent: false,
  openWorld: false,
  channels: ['rest'],
  input: z.strictObject({ account_name: AccountName }),
  output: z.object({ account_name: z.string(), deleted: z.boolean() }),
  http: { method: 'DELETE', path: '/accounts/{account_name}' },
  handler: async (input, ctx) => {
    await ctx.services.accounts.delete(input.account_name);
    return { account_name: input.account_name, deleted: true };
  },
});
