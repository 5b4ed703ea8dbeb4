import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { Decimal } from '../../core/decimal.js';
import type { AccountTotals } from '../../core/executors/executor-service.js';
import { AccountName } from '../../core/schema.js';

const Totals = {
  total_executors: z.number().int(),
  active_executors: z.number().int(),
  net_pnl_quote: z.number().describe('Realized plus unrealized, net of fees, in the quote asset.'),
  realized_pnl_quote: z.number(),
  unrealized_pnl_quote: z.number().describe('Of running executors at their latest cycle\'s prices; ended ones count what they held when they ended.'),
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
    const rows = await ctx.services.executors.summary(scopeList(ctx.principal), input.account_name);
    const totals = (t: Omit<AccountTotals, 'accountName'>) => ({
      total_executors: t.total,
      active_executors: t.active,
      net_pnl_quote: t.netPnl.toNumber(),
      realized_pnl_quote: t.realizedPnl.toNumber(),
      unrealized_pnl_quote: t.unrealizedPnl.toNumber(),
      cum_fees_quote: t.fees.toNumber(),
      filled_amount_quote: t.volume.toNumber(),
    });
    const zero = new Decimal(0);
    const all = rows.reduce(
      (s, r) => ({ total: s.total + r.total, active: s.active + r.active, netPnl: s.netPnl.plus(r.netPnl), realizedPnl: s.realizedPnl.plus(r.realizedPnl), unrealizedPnl: s.unrealizedPnl.plus(r.unrealizedPnl), fees: s.fees.plus(r.fees), volume: s.volume.plus(r.volume) }),
      { total: 0, active: 0, netPnl: zero, realizedPnl: zero, unrealizedPnl: zero, fees: zero, volume: zero },
    );
    return { accounts: rows.map((r) => ({ account_name: r.accountName, ...totals(r) })), total: totals(all) };
  },
});
