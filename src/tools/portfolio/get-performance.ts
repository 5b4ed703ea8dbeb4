import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { dec, PortfolioFilter } from './schemas.js';

const WINDOWS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000, '90d': 90 * 86_400_000, all: Number.POSITIVE_INFINITY } as const;

export const getPerformance = defineCommand({
  name: 'portfolio_get_performance',
  group: 'portfolio',
  title: 'Portfolio performance',
  description:
    'Returns performance over a window ending now: value then and now (from snapshots) and the change, realized PnL of perpetual closes, current unrealized PnL, and fees paid. start_value is null until a snapshot exists in the window.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  accountScope: 'filtered',
  input: z.strictObject({ ...PortfolioFilter, window: z.enum(Object.keys(WINDOWS) as [keyof typeof WINDOWS]).optional().describe('Window ending now (default 24h).') }),
  output: z.object({
    window: z.string(),
    quote: z.string(),
    start_time: z.string().nullable(),
    start_value: z.number().nullable(),
    end_value: z.number(),
    value_change: z.number().nullable(),
    value_change_pct: z.number().nullable(),
    realized_pnl: z.number(),
    unrealized_pnl: z.number(),
    fees_paid: z.number(),
  }),
  http: { method: 'GET', path: '/portfolio/performance' },
  handler: async (input, ctx) => {
    const window = input.window ?? '24h';
    const quote = input.quote ?? 'USDT';
    const span = WINDOWS[window];
    const p = await ctx.services.portfolio.performance({ ...input, account_names: input.account_names ?? scopeList(ctx.principal) ?? undefined }, Number.isFinite(span) ? ctx.services.clock.now() - span : 0, quote);
    return {
      window,
      quote,
      start_time: p.start_time?.toISOString() ?? null,
      start_value: dec(p.start_value),
      end_value: p.end_value.toNumber(),
      value_change: dec(p.value_change),
      value_change_pct: p.value_change_pct ? p.value_change_pct.toDecimalPlaces(4).toNumber() : null,
      realized_pnl: p.realized_pnl.toNumber(),
      unrealized_pnl: p.unrealized_pnl.toNumber(),
      fees_paid: p.fees_paid.toNumber(),
    };
  },
});
