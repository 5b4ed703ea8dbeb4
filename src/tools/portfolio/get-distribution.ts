import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { Decimal } from '../../core/decimal.js';
import { PortfolioFilter } from './schemas.js';

export const getDistribution = defineCommand({
  name: 'portfolio_get_distribution',
  group: 'portfolio',
  title: 'Portfolio distribution',
  description: 'Returns how the portfolio\'s value splits across assets (summed over accounts and connectors), largest first, with each asset\'s share in percent. Unpriced assets are listed apart.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  accountScope: 'filtered',
  input: z.strictObject(PortfolioFilter),
  output: z.object({
    quote: z.string(),
    total_value: z.number(),
    assets: z.array(z.object({ asset: z.string(), amount: z.number(), value: z.number(), percentage: z.number() })),
    unpriced: z.array(z.object({ asset: z.string(), amount: z.number() })),
  }),
  http: { method: 'GET', path: '/portfolio/distribution' },
  handler: async (input, ctx) => {
    const quote = input.quote ?? 'USDT';
    const state = await ctx.services.portfolio.state({ ...input, account_names: input.account_names ?? scopeList(ctx.principal) ?? undefined }, quote);
    const priced = new Map<string, { amount: Decimal; value: Decimal }>();
    const unpriced = new Map<string, Decimal>();
    for (const c of state) {
      for (const h of c.holdings) {
        if (h.value) {
          const cur = priced.get(h.asset) ?? { amount: new Decimal(0), value: new Decimal(0) };
          priced.set(h.asset, { amount: cur.amount.plus(h.amount), value: cur.value.plus(h.value) });
        } else unpriced.set(h.asset, (unpriced.get(h.asset) ?? new Decimal(0)).plus(h.amount));
      }
    }
    const total = [...priced.values()].reduce((s, v) => s.plus(v.value), new Decimal(0));
    const assets = [...priced.entries()]
      .map(([asset, v]) => ({ asset, amount: v.amount.toNumber(), value: v.value.toNumber(), percentage: total.isZero() ? 0 : v.value.div(total).times(100).toDecimalPlaces(4).toNumber() }))
      .sort((a, b) => b.value - a.value);
    return { quote, total_value: total.toNumber(), assets, unpriced: [...unpriced.entries()].map(([asset, amount]) => ({ asset, amount: amount.toNumber() })) };
  },
});
