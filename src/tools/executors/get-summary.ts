import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { Decimal } from '../../core/decimal.js';
import { AccountName } from '../../core/schema.js';

const Totals = {
  total_executors: z.number().int(),
  active_executors: z.number().int(),
  net_pnl_quote: z.number().describe('Realized plus unrealized, net of fees, in the quote asset.'),
  realized_pnl_quote: z.number(),
  unrealized_pnl_quote: z.number().describe('As of each executor\'s last stored report.'),
  cum_fees_quote: z.number(),
  filled_amount_quote: z.number().describe('Quote volume traded.'),
};

export const getExecutorSummary = defineCommand({
  name: 'executors_get_summary',
  group: 'executors',
  title: 'Executor PnL summary',
  description: 'PnL of executors by account: how many ran and run, net, realized and unrealized PnL, fees and volume, each account and in total (sums of quote amounts; pairs with different quote assets are added as they are).',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ account_name: AccountName.optional().describe('Only this account.') }),
  output: z.object({ accounts: z.array(z.object({ account_name: z.string(), ...Totals })), total: z.object(Totals) }),
  http: { method: 'GET', path: '/executors/summary' },
  handler: async (input, ctx) => {
    const rows = await ctx.services.executors.store.summary(scopeList(ctx.principal), input.account_name);
    const accounts = rows.map((r) => ({
      account_name: r.accountName,
      total_executors: r.total,
      active_executors: r.active,
      net_pnl_quote: Number(r.netPnl),
      realized_pnl_quote: Number(r.realizedPnl),
      unrealized_pnl_quote: Number(r.unrealizedPnl),
      cum_fees_quote: Number(r.fees),
      filled_amount_quote: Number(r.volume),
    }));
    const sum = (k: 'netPnl' | 'realizedPnl' | 'unrealizedPnl' | 'fees' | 'volume') => Number(rows.reduce((s, r) => s.plus(r[k]), new Decimal(0)));
    return {
      accounts,
      total: {
        total_executors: rows.reduce((s, r) => s + r.total, 0),
        active_executors: rows.reduce((s, r) => s + r.active, 0),
        net_pnl_quote: sum('netPnl'),
        realized_pnl_quote: sum('realizedPnl'),
        unrealized_pnl_quote: sum('unrealizedPnl'),
        cum_fees_quote: sum('fees'),
        filled_amount_quote: sum('volume'),
      },
    };
  },
});
