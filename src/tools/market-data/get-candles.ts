import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AppError } from '../../core/errors.js';
import { CANDLE_INTERVALS, INTERVAL_MS } from '../../core/exchange/types.js';
import { iso, QueryInt, TimeIn } from '../../core/schema.js';
import { MarketRef } from './schemas.js';

export const getCandles = defineCommand({
  name: 'market_data_get_candles',
  group: 'market_data',
  title: 'Get candles',
  description:
    'OHLCV candles, oldest first, 1m to 1w, at most 1000 a call. Without start_time: the newest `limit` up to end_time (default now), and `previous_end_time` pages back. With start_time it reads forward and `next_start_time` continues.',
  // A bot's strategy reads the market through these (src/core/bots/gateway.ts).
  channels: ['rest', 'mcp', 'bot'],
  risk: 'read',
  idempotent: true,
  openWorld: true,
  input: z.strictObject({
    ...MarketRef,
    interval: z.enum(CANDLE_INTERVALS).optional().describe('Candle interval (default 1h).'),
    start_time: TimeIn.optional().describe('Read forward from this time (epoch ms or ISO-8601).'),
    end_time: TimeIn.optional().describe('No candle after this time; default now.'),
    limit: QueryInt(1, 1000).optional().describe('Candles, 1-1000 (default 100).'),
  }),
  output: z.object({
    connector_name: z.string(),
    trading_pair: z.string(),
    interval: z.string(),
    candles: z.array(
      z.object({ timestamp: z.number(), time: z.string(), open: z.number(), high: z.number(), low: z.number(), close: z.number(), volume: z.number() }),
    ),
    direction: z.enum(['forward', 'backward']),
    truncated: z.boolean().describe('More candles exist that way.'),
    next_start_time: z.string().nullable().describe('forward: start_time of the next page.'),
    previous_end_time: z.string().nullable().describe('backward: end_time of the page before.'),
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
    // Reading back, the page before ends just before this page's first candle.
    const previous = truncated && !forward ? kept[0]!.timestamp - 1 : null;
    return {
      connector_name: input.connector_name,
      trading_pair: input.trading_pair,
      interval,
      candles: kept.map((c) => ({ ...c, time: iso(c.timestamp) })),
      direction: forward ? ('forward' as const) : ('backward' as const),
      truncated,
      next_start_time: next === null ? null : iso(next),
      previous_end_time: previous === null ? null : iso(previous),
    };
  },
});
