import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AppError, invalidField } from '../../core/errors.js';
import { CANDLE_INTERVALS } from '../../core/exchange/types.js';
import { BACKFILL_MAX_CANDLES, backfillSlots, CANDLE_BACKFILL_KIND } from '../../core/market-data/candle-backfill.js';
import { iso, TimeIn, TradingPair } from '../../core/schema.js';
import { Connector } from '../fields.js';
import { JobOut } from './schemas.js';


/**
 * A job rather than a call: a long range takes minutes and many exchange requests. The answer is the
 * queued job (202); its progress and result are read with jobs_get_job.
 */
export const startCandleBackfill = defineCommand({
  name: 'jobs_start_candle_backfill',
  group: 'jobs',
  title: 'Start candle backfill',
  description: `Starts a background job that stores a range of closed candles in the server's candle cache, page by page, so later reads (and backtests) of it need no exchange call. Returns the job at once; follow it with jobs_get_job. Up to ${BACKFILL_MAX_CANDLES.toLocaleString('en-US')} candles; pages already stored are skipped.`,
  risk: 'write',
  idempotent: false,
  openWorld: true,
  // It names no account; the job it returns is the caller's own.
  accountScope: 'filtered',
  input: z.strictObject({
    connector_name: Connector,
    trading_pair: TradingPair,
    interval: z.enum(CANDLE_INTERVALS).optional().describe('Candle interval (default 1h).'),
    start_time: TimeIn.describe('First candle (epoch ms or ISO-8601).'),
    end_time: TimeIn.optional().describe('Last candle; default now.'),
  }),
  output: z.object({ job: JobOut }),
  http: { method: 'POST', path: '/market-data/candles/backfill', successStatus: 202 },
  handler: async (input, ctx) => {
    const interval = input.interval ?? '1h';
    const now = ctx.services.clock.now();
    const end = Math.min(input.end_time ?? now, now);
    if (input.start_time >= end) throw invalidField('start_time', input.end_time === undefined || input.end_time <= now ? 'must be before end_time' : 'must be in the past');
    const { count } = backfillSlots(interval, input.start_time, end);
    if (count === 0) throw invalidField('start_time', `the range holds no ${interval} candle`);
    if (count > BACKFILL_MAX_CANDLES) throw invalidField('start_time', `the range holds ${count} ${interval} candles; at most ${BACKFILL_MAX_CANDLES} per backfill (split it, or use a longer interval)`);
    // Checked now, so that a typo is a 404 to the caller rather than a job that fails later.
    const connector = await ctx.services.connectors.get(input.connector_name);
    if (!(await connector.loadMarkets()).some((m) => m.trading_pair === input.trading_pair)) {
      throw new AppError('NOT_FOUND', `${input.connector_name} does not list ${input.trading_pair}.`, { hint: `GET /connectors/${input.connector_name}/markets lists its pairs.` });
    }
    const job = await ctx.services.jobs.create(
      CANDLE_BACKFILL_KIND,
      { connector_name: input.connector_name, trading_pair: input.trading_pair, interval, start_time: iso(input.start_time), end_time: iso(end) },
      ctx.principal,
    );
    return { job };
  },
});
