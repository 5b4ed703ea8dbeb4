import { z } from 'zod';
import { AppError, defineCommand } from '../../core/command/index.js';
import { CANDLE_INTERVALS, INTERVAL_MS } from '../../core/exchange/types.js';
import { iso, QueryInt, TimeIn } from '../../core/schema.js';
import { MarketRef } from './schemas.js';

export const getCandles = defineCommand({
  name: 'market_data_get_candles',
  group: 'market_data',
  title: 'Get candles',
  description:
    'Returns OHLCV candles, oldest first, for an interval from 1m to 1w. Give start_time to read forward from a point, or only end_time (default now) to read the latest. At most 1000 candles per call; `truncated` says more exist in the range, and `next_start_time` continues from there.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  input: z.strictObject({
    ...MarketRef,
    interval: z.enum(CANDLE_INTERVALS).optional().describe('Candle interval (default 1h).'),
    start_time: TimeIn.optional().describe('First candle at or after this time (epoch ms or ISO-8601).'),
    end_time: TimeIn.optional().describe('No candle after this time (epoch ms or ISO-8601); default now.'),
    limit: QueryInt(1, 1000).optional().describe('Maximum candles, 1-1000 (default 100).'),
  }),
  output: z.object({
    connector_name: z.string(),
    trading_pair: z.string(),
    interval: z.string(),
    candles: z.array(
      z.object({ timestamp: z.number(), time: z.string(), open: z.number(), high: z.number(), low: z.number(), close: z.number(), volume: z.number() }),
    ),
    truncated: z.boolean(),
    next_start_time: z.string().nullable(),
  }),
  http: { method: 'GET', path: '/market-data/candles/{trading_pair}' },
  handler: async (input, ctx) => {
    const interval = input.interval ?? '1h';
    const limit = input.limit ?? 100;
    if (input.start_time !== undefined && input.end_time !== undefined && input.start_time > input.end_time) {
      throw new AppError('VALIDATION_FAILED', 'Invalid input: start_time is after end_time.', { details: { issues: [{ path: 'start_time', message: 'must not be after end_time' }] } });
    }
    // Ask for one more than the limit to know whether the range holds more.
    const rows = await ctx.services.marketData.candles(input.connector_name, input.trading_pair, interval, { since: input.start_time, until: input.end_time, limit: limit + 1 });
    const forward = input.start_time !== undefined;
    const truncated = rows.length > limit;
    const kept = truncated ? (forward ? rows.slice(0, limit) : rows.slice(-limit)) : rows;
    const next = truncated && forward ? kept[kept.length - 1]!.timestamp + INTERVAL_MS[interval] : null;
    return {
      connector_name: input.connector_name,
      trading_pair: input.trading_pair,
      interval,
      candles: kept.map((c) => ({ ...c, time: iso(c.timestamp) })),
      truncated,
      next_start_time: next === null ? null : iso(next),
    };
  },
});
