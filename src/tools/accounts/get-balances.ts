import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountName, ConnectorName } from '../../core/schema.js';
import { BalanceOut } from './schemas.js';

export const getBalances = defineCommand({
  name: 'accounts_get_balances',
  group: 'accounts',
  title: 'Get account balances',
  description:
    'An account\'s balances on each attached connector (total, available, locked per asset): paper and sim from this server, live from the exchange. A connector that cannot be read has status "error"; the call still succeeds.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  input: z.strictObject({
    account_name: AccountName,
    connector_name: ConnectorName.optional().describe('Only this connector; its failure is then an error of the call.'),
  }),
  output: z.object({
    account_name: z.string(),
    connectors: z.array(
      z.object({
        connector_name: z.string(),
        status: z.enum(['ok', 'error']),
        balances: z.array(BalanceOut),
        error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }).optional(),
      }),
    ),
  }),
  http: { method: 'GET', path: '/accounts/{account_name}/balances' },
  handler: async (input, ctx) => {
    const result = await ctx.services.accounts.balances(input.account_name, input.connector_name);
    return {
      account_name: input.account_name,
      connectors: result.map((c) => ({
        ...c,
        balances: c.balances.map((b) => ({ asset: b.asset, total: Number(b.total), available: Number(b.available), locked: Number(b.locked) })),
      })),
    };
  },
});
