import type { CandleInterval, CandleRow } from '../exchange/types.js';
import { INTERVAL_MS } from '../exchange/types.js';

/**
 * Reads a backtest's candles: the range plus the warm-up bars before it, page by page, into columns
 * (one Float64Array per field, which cross a worker boundary without copying). Slots the source has no
 * candle for are reported as gaps, never filled: a backtest over missing data says so in its result.
 */

/** Where candles come from: MarketData (sim computes any past range; exchanges go through the candle cache). */
export interface CandleReader {
  candles(connector: string, pair: string, interval: CandleInterval, opts: { since?: number; until?: number; limit: number }): Promise<CandleRow[]>;
}

export interface CandleColumns {
  /** Open times, epoch ms, ascending, one interval apart except across gaps. */
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export interface CandleGap {
  /** Open time of the first missing candle (ISO). */
  from: string;
  /** Open time of the last missing candle (ISO). */
  to: string;
  candles: number;
}

export interface LoadedCandles {
  columns: CandleColumns;
  /** Index of the first candle at or after the requested start (earlier ones are warm-up). */
  startIndex: number;
  /** Candle slots from warm-up start to end. */
  slots: number;
  gaps: CandleGap[];
}

export interface LoadRequest {
  connector: string;
  tradingPair: string;
  interval: CandleInterval;
  /** First candle open time of the range (ms). */
  start: number;
  /** Last candle open time of the range (ms, inclusive). */
  end: number;
  warmupBars: number;
}

export const PAGE = 1000;

export async function loadCandles(
  reader: CandleReader,
  req: LoadRequest,
  opts: { signal?: AbortSignal; onPage?: (loadedSlots: number, totalSlots: number) => void } = {},
): Promise<LoadedCandles> {
  const step = INTERVAL_MS[req.interval];
  const first = Math.ceil(req.start / step) * step - req.warmupBars * step;
  const last = Math.floor(req.end / step) * step;
  const slots = last < first ? 0 : (last - first) / step + 1;
  const rows: CandleRow[] = [];
  let since = first;
  while (since <= last) {
    opts.signal?.throwIfAborted();
    const until = Math.min(since + (PAGE - 1) * step, last);
    const page = await reader.candles(req.connector, req.tradingPair, req.interval, { since, until, limit: PAGE });
    for (const r of page) {
      // A source may answer a little outside the page (or repeat a boundary candle): keep each slot once, in order.
      if (r.timestamp < since || r.timestamp > until || r.timestamp % step !== 0) continue;
      if (rows.length > 0 && r.timestamp <= rows[rows.length - 1]!.timestamp) continue;
      rows.push(r);
    }
    since = until + step;
    opts.onPage?.(Math.min((since - first) / step, slots), slots);
    // sim computes a page without I/O: let the server answer its other requests between pages, or a
    // range of millions of candles would hold the event loop for seconds.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const columns = toColumns(rows);
  let startIndex = rows.findIndex((r) => r.timestamp >= req.start);
  if (startIndex < 0) startIndex = rows.length;
  return { columns, startIndex, slots, gaps: gapsOf(columns.time, first, last, step) };
}

export function toColumns(rows: readonly CandleRow[]): CandleColumns {
  const n = rows.length;
  const c: CandleColumns = { time: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    c.time[i] = r.timestamp;
    c.open[i] = r.open;
    c.high[i] = r.high;
    c.low[i] = r.low;
    c.close[i] = r.close;
    c.volume[i] = r.volume;
  }
  return c;
}

/** Runs of missing slots between `first` and `last` (inclusive), given the open times present. */
export function gapsOf(times: Float64Array, first: number, last: number, step: number): CandleGap[] {
  // Times are one interval apart except across gaps (CandleColumns): as many as the slots, from the first
  // slot to the last, is none missing, told without the walk (an optimizer asks once per trial).
  const n = times.length;
  if (n > 0 && times[0] === first && times[n - 1] === last && (last - first) / step + 1 === n) return [];
  const gaps: CandleGap[] = [];
  const push = (from: number, to: number) => {
    gaps.push({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), candles: (to - from) / step + 1 });
  };
  let expected = first;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    // Tested here, not in push: a call per candle boxes its two numbers (a year of candles is 8 MB of garbage).
    if (t - step >= expected) push(expected, t - step);
    expected = t + step;
  }
  if (last >= expected) push(expected, last);
  return gaps;
}
