import { AppError } from '../errors.js';
import type { Connectors } from '../exchange/connectors.js';
import { INTERVAL_MS, type CandleInterval } from '../exchange/types.js';
import type { JobRunner } from '../jobs/types.js';
import type { CandleCache } from './candle-cache.js';

export const CANDLE_BACKFILL_KIND = 'candle_backfill';
/** Candles one backfill may cover: about two years of 1m candles. */
export const BACKFILL_MAX_CANDLES = 1_000_000;
/** Candles asked for per request; exchanges that serve fewer per page are simply asked more often. */
export const BACKFILL_PAGE = 1000;

/** The job's input as stored: wire names, the range resolved to ISO times when the job was created. */
export interface CandleBackfillInput {
  connector_name: string;
  trading_pair: string;
  interval: CandleInterval;
  start_time: string;
  end_time: string;
}

export interface CandleBackfillResult {
  connector_name: string;
  trading_pair: string;
  interval: CandleInterval;
  start_time: string;
  end_time: string;
  /** Candle slots in the range (an exchange may have fewer, e.g. before the pair was listed). */
  candles_in_range: number;
  /** Candles read from the exchange in this run. */
  candles_fetched: number;
  /** Candles found already stored, whose pages needed no request. */
  candles_already_cached: number;
  pages: number;
  /** Every page of the range was read (false after a cancel or a stop). */
  complete: boolean;
  /** Open time of the last candle slot covered so far, or null before the first page. */
  covered_until: string | null;
}

/** The first and last candle open times within [start, end], and how many slots lie between. */
export function backfillSlots(interval: CandleInterval, start: number, end: number): { first: number; last: number; count: number } {
  const step = INTERVAL_MS[interval];
  const first = Math.ceil(start / step) * step;
  const last = Math.floor(end / step) * step;
  return { first, last, count: last < first ? 0 : (last - first) / step + 1 };
}

/**
 * Reads a candle range into the candle cache page by page, oldest first, so that later reads of it
 * (and backtests) need no exchange call. Pages the cache already holds whole are skipped, which makes
 * running a backfill again after an interruption cheap. Stops between pages when its signal fires and
 * returns what it covered.
 */
export function candleBackfill(connectors: Connectors, cache: CandleCache): JobRunner<CandleBackfillInput, CandleBackfillResult> {
  return async (input, ctx) => {
    const { interval } = input;
    const step = INTERVAL_MS[interval];
    const start = Date.parse(input.start_time);
    const end = Date.parse(input.end_time);
    if (!Number.isFinite(start) || !Number.isFinite(end) || !(interval in INTERVAL_MS)) {
      throw new AppError('VALIDATION_FAILED', 'The backfill was stored with an unreadable range or interval.', { hint: 'Start a new backfill.' });
    }
    const connector = await connectors.get(input.connector_name);
    // Paper connectors read (and cache under) their exchange's name, as MarketData does.
    const source = connector.info.name;
    const { first, last, count } = backfillSlots(interval, start, end);
    const out: CandleBackfillResult = {
      ...input,
      candles_in_range: count,
      candles_fetched: 0,
      candles_already_cached: 0,
      pages: 0,
      complete: false,
      covered_until: null,
    };
    let since = first;
    while (since <= last) {
      if (ctx.signal.aborted) return out;
      const now = ctx.clock.now();
      const limit = Math.min(BACKFILL_PAGE, (last - since) / step + 1);
      const stored = await cache.covered(source, input.trading_pair, interval, since, last, limit, now);
      let newest: number | undefined;
      if (stored) {
        out.candles_already_cached += stored.length;
        newest = stored[stored.length - 1]?.timestamp;
      } else {
        const rows = await connector.fetchCandles(input.trading_pair, interval, { since, until: last, limit });
        await cache.store(source, input.trading_pair, interval, rows, now);
        out.candles_fetched += rows.length;
        newest = rows[rows.length - 1]?.timestamp;
      }
      out.pages++;
      // An empty page (before the pair was listed) skips the span it asked for.
      const reached = newest !== undefined && newest >= since ? newest : since + (limit - 1) * step;
      since = reached + step;
      out.covered_until = new Date(reached).toISOString();
      const done = (reached - first) / step + 1;
      ctx.progress(done / count, `${done} of ${count} candles covered, up to ${out.covered_until}`);
      // Computing a sim page is synchronous work: let heartbeats and requests in between pages.
      await new Promise<void>((r) => setImmediate(r));
    }
    out.complete = true;
    return out;
  };
}
