import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { Decimal } from '../../core/decimal.js';
import { dec, PortfolioFilter } from './schemas.js';

export const getPortfolioBalances = defineCommand({
  name: 'portfolio_get_balances',
  group: 'portfolio',
  title: 'Portfolio balances',
  description:
    'Every holding across accounts and connectors, valued in one quote (USDT by default), with perpetual unrealized PnL and totals per connector, account and overall. An asset without a price has a null value, not zero.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  accountScope: 'filtered',
  input: z.strictObject(PortfolioFilter),
  output: z.object({
    quote: z.string(),
    total_value: z.number(),
    accounts: z.array(
      z.object({
        account_name: z.string(),
        total_value: z.number(),
        connectors: z.array(
          z.object({
            connector_name: z.string(),
            status: z.enum(['ok', 'error']),
            error: z.object({ code: z.string(), message: z.string() }).optional(),
            total_value: z.number(),
            unrealized_pnl: z.number(),
            holdings: z.array(z.object({ asset: z.string(), amount: z.number(), available: z.number(), price: z.number().nullable(), value: z.number().nullable() })),
          }),
        ),
      }),
    ),
  }),
  http: { method: 'GET', path: '/portfolio/balances' },
  handler: async (input, ctx) => {
    const quote = input.quote ?? 'USDT';
    const state = await ctx.services.portfolio.state({ ...input, account_names: input.account_names ?? scopeList(ctx.principal) ?? undefined }, quote);
    const byAccount = new Map<string, typeof state>();
    for (const s of state) byAccount.set(s.account_name, [...(byAccount.get(s.account_name) ?? []), s]);
    const total = state.reduce((s, c) => s.plus(c.total_value), new Decimal(0));
    return {
      quote,
      total_value: total.toNumber(),
      accounts: [...byAccount.entries()].map(([account_name, list]) => ({
        account_name,
        total_value: list.reduce((s, c) => s.plus(c.total_value), new Decimal(0)).toNumber(),
        connectors: list.map((c) => ({
          connector_name: c.connector_name,
          status: c.status,
          ...(c.error ? { error: c.error } : {}),
          total_value: c.total_value.toNumber(),
          unrealized_pnl: c.unrealized_pnl.toNumber(),
          holdings: c.holdings.map((h) => ({ asset: h.asset, amount: h.amount.toNumber(), available: h.available.toNumber(), price: dec(h.price), value: dec(h.value) })),
        })),
      })),
    };
  },
});
