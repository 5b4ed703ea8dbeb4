import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { AppError } from '../../core/errors.js';
import { iso, QueryInt, TimeIn } from '../../core/schema.js';
import { PortfolioFilter } from './schemas.js';

const INTERVALS = { '5m': 300_000, '15m': 900_000, '30m': 1_800_000, '1h': 3_600_000, '4h': 14_400_000, '12h': 43_200_000, '1d': 86_400_000 } as const;

export const getHistory = defineCommand({
  name: 'portfolio_get_history',
  group: 'portfolio',
  title: 'Portfolio history',
  description:
    'The portfolio\'s total value over time, from snapshots taken every few minutes: one point per interval, oldest first, split per account, in USDT.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({
    account_names: PortfolioFilter.account_names,
    connector_names: PortfolioFilter.connector_names,
    interval: z.enum(Object.keys(INTERVALS) as [keyof typeof INTERVALS]).optional().describe('Sampling interval (default 1h).'),
    start_time: TimeIn.optional().describe('From this time (epoch ms or ISO-8601); default 7 days ago.'),
    end_time: TimeIn.optional().describe('Until this time; default now.'),
    limit: QueryInt(1, 1000).optional().describe('At most this many points, the latest kept (default 500).'),
  }),
  output: z.object({
    interval: z.string(),
    points: z.array(z.object({ timestamp: z.number(), time: z.string(), total_value: z.number(), by_account: z.record(z.string(), z.number()) })),
    truncated: z.boolean().describe('Older points exist in the range.'),
    previous_end_time: z.string().nullable().describe('When truncated: end_time of the page before this one.'),
  }),
  http: { method: 'GET', path: '/portfolio/history' },
  handler: async (input, ctx) => {
    const interval = input.interval ?? '1h';
    const end = input.end_time ?? ctx.services.clock.now();
    const start = input.start_time ?? end - 7 * 86_400_000;
    if (start > end) throw new AppError('VALIDATION_FAILED', 'Invalid input: start_time is after end_time.', { details: { issues: [{ path: 'start_time', message: 'must not be after end_time' }] } });
    const h = await ctx.services.portfolio.history({ ...input, account_names: input.account_names ?? scopeList(ctx.principal) ?? undefined }, INTERVALS[interval], start, end, input.limit ?? 500);
    // The latest points are kept, so the page before ends just before the first one.
    const first = h.points[0];
    return {
      interval,
      points: h.points.map((p) => ({ timestamp: p.timestamp, time: iso(p.timestamp), total_value: p.total_value.toNumber(), by_account: Object.fromEntries(Object.entries(p.by_account).map(([k, v]) => [k, v.toNumber()])) })),
      truncated: h.truncated,
      previous_end_time: h.truncated && first ? iso(first.timestamp - 1) : null,
    };
  },
});
