import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { cutNotice, cutToFit } from '../../src/mcp/result-size.js';
import { toolResult } from '../../src/mcp/tool-output.js';

/** Which end of a list a cut keeps: the newest items of a time series, whatever its order. */
const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;
const texts = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : ''));

describe('cutting a time series', () => {
  it('oldest first (portfolio points): drops the old end, and says how to read it back', () => {
    const points = Array.from({ length: 500 }, (_, i) => ({ timestamp: T0 + i * HOUR, time: new Date(T0 + i * HOUR).toISOString(), total_value: 1000 + i, by_account: { a: 1000 + i } }));
    const cut = cutToFit({ interval: '1h', points, truncated: false }, 10_000);
    const kept = cut.value.points;
    expect(kept.at(-1)).toEqual(points.at(-1));
    expect(kept).toEqual(points.slice(500 - kept.length));
    const firstKept = kept[0]!.timestamp;
    expect(cut.cuts).toEqual([{ path: 'points', shown: kept.length, total: 500, kept: 'newest', firstKeptMs: firstKept }]);
    expect(cutNotice(cut.cuts, 10_000, false)).toContain(`call again with end_time=${firstKept - 1} and limit=${500 - kept.length}, without start_time`);
  });

  it('a page read forward (candles from a start_time) keeps its old end, and says where the next read starts', () => {
    const candles = Array.from({ length: 1000 }, (_, i) => ({ timestamp: T0 + i * HOUR, time: new Date(T0 + i * HOUR).toISOString(), open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 }));
    const page = { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1h', candles, truncated: true, next_start_time: new Date(T0 + 1000 * HOUR).toISOString(), previous_end_time: null };
    const cut = cutToFit(page, 20_000);
    const kept = cut.value.candles;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(candles.slice(0, kept.length));
    const resume = T0 + kept.length * HOUR;
    expect(cut.cuts).toEqual([{ path: 'candles', shown: kept.length, total: 1000, kept: 'oldest', firstDroppedMs: resume }]);
    expect(cutNotice(cut.cuts, 20_000, false)).toContain(`call again with start_time=${new Date(resume).toISOString()}`);
    // The last page of a forward read (nothing after it) still keeps its old end; a page read back keeps its newest.
    expect(cutToFit({ ...page, direction: 'forward', truncated: false, next_start_time: null }, 20_000).cuts[0]).toMatchObject({ kept: 'oldest' });
    expect(cutToFit({ ...page, direction: 'backward', truncated: false, next_start_time: null }, 20_000).cuts[0]).toMatchObject({ kept: 'newest' });
  });

  it('a tool that takes only an id is not told to narrow its query: the notice names its REST route instead', () => {
    const cut = cutToFit({ result: { executors: Array.from({ length: 500 }, (_, i) => ({ id: `e${i}`, padding: 'x'.repeat(50) })) } }, 8_000);
    const whole = cutNotice(cut.cuts, 8_000, false, { narrows: false, route: 'GET /backtesting/results/{job_id}' });
    expect(whole).toContain('This tool takes nothing to narrow its result; GET /backtesting/results/{job_id} over REST serves it uncut.');
    expect(whole).not.toContain('a smaller limit');
    expect(cutNotice(cut.cuts, 8_000, false)).toContain('Narrow the query (a smaller limit, a shorter time range, more filters)');
  });

  it('newest first (the journal, orders, fills): keeps the start, which is the newest end', () => {
    const data = Array.from({ length: 400 }, (_, i) => ({ id: 400 - i, at: new Date(T0 - i * HOUR).toISOString(), command: 'trading_place_order', padding: 'x'.repeat(50) }));
    const cut = cutToFit({ data, pagination: { limit: 400, has_more: true, next_cursor: '1' } }, 8_000);
    expect(cut.value.data).toEqual(data.slice(0, cut.value.data.length));
    expect(cut.cuts[0]).toMatchObject({ path: 'data', kept: 'first' });
    // A paged list is re-read with a smaller limit rather than by the uncut page's cursor.
    expect(cutNotice(cut.cuts, 8_000, false)).toMatch(/call again with limit set to the number shown, and its next_cursor continues right after the last item shown/);
  });

  it('a series with no end_time paging (recent trades) keeps the newest without promising a way back', () => {
    const trades = Array.from({ length: 300 }, (_, i) => ({ trade_id: `t${i}`, timestamp: T0 + i * 1000, side: 'buy', price: 1, amount: 1 }));
    const cut = cutToFit({ trades }, 5_000);
    expect(cut.value.trades.at(-1)).toEqual(trades.at(-1));
    const notice = cutNotice(cut.cuts, 5_000, false);
    expect(notice).toContain('the newest');
    expect(notice).not.toContain('end_time=');
  });

  it('lists without time, or with equal times, keep their first items (a book keeps its best levels)', () => {
    const bids = Array.from({ length: 300 }, (_, i) => [100 - i * 0.01, 1]);
    const same = Array.from({ length: 300 }, () => ({ timestamp: T0, v: 'y'.repeat(20) }));
    const cut = cutToFit({ bids, same }, 3_000);
    expect(cut.value.bids).toEqual(bids.slice(0, cut.value.bids.length));
    expect(cut.cuts.map((c) => c.kept)).toEqual(['first', 'first']);
  });

  it('a cut made again after fencing still keeps the newest end', () => {
    const candles = Array.from({ length: 400 }, (_, i) => ({ timestamp: T0 + i * HOUR, open: 1, high: 1, low: 1, close: 1, volume: 1, error_message: `venue says ${i}` }));
    const r = toolResult({ candles }, { maxChars: 12_000 });
    const kept = (r.structuredContent as { candles: typeof candles }).candles;
    expect(kept.at(-1)!.timestamp).toBe(candles.at(-1)!.timestamp);
    expect(texts(r)[1]).toContain('the newest');
  });
});

describe('times a Date cannot hold', () => {
  it('a list dated beyond what a Date holds is cut as an undated list, without failing', () => {
    const trades = Array.from({ length: 300 }, (_, i) => ({ trade_id: `t${i}`, timestamp: 1e300 * (i + 1), side: 'buy' }));
    const r = toolResult({ trades }, { maxChars: 5_000 });
    expect((r.structuredContent as { trades: typeof trades }).trades[0]).toEqual(trades[0]);
    expect(texts(r)[1]).toContain('(the first ones)');
  });
});
