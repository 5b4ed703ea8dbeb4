import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * An agent asking for the latest candles must get the latest ones, even when the result is too big
 * for one answer: a time series loses its OLD end, the notice says so and says how to read what was
 * dropped, and reading back page by page (end_time, previous_end_time) has no gap and no overlap.
 */
type CallResult = Awaited<ReturnType<Client['callTool']>>;
type Candle = { timestamp: number };
const textsOf = (r: CallResult) => (r.content as Array<{ type: string; text: string }>).map((c) => c.text);
const MINUTE = 60_000;
/** A fixed past end, so every call sees the same candles. */
const END = Date.UTC(2025, 5, 1, 12, 0, 0);

describe.each(drivers())('time series over MCP on %s', (driver) => {
  let s: TestServer;
  let client: Client;

  beforeAll(async () => {
    s = await testServer(driver);
    client = await mcpClient(s.url, ADMIN_AUTH, 'e2e-series');
    await client.listTools();
  });
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await s?.stop();
  });

  it('1000 one-minute candles up to end_time: the newest are kept and the hint reads back exactly what was dropped', async () => {
    const args = { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1m', end_time: END, limit: 1000 };
    const rest = await s.call('GET', `/market-data/candles/BTC-USDT?connector_name=sim&interval=1m&end_time=${END}&limit=1000`);
    expect(rest.status).toBe(200);
    const all = rest.body.candles as Candle[];
    expect(all).toHaveLength(1000);
    expect(all.at(-1)!.timestamp).toBe(END);

    const r = await client.callTool({ name: 'market_data_get_candles', arguments: args });
    expect(r.isError ?? false).toBe(false);
    const kept = (r.structuredContent as { candles: Candle[] }).candles;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(1000);
    // The newest candle is there: the list ends where the uncut one ends.
    expect(kept).toEqual(all.slice(1000 - kept.length));
    const dropped = 1000 - kept.length;
    const notice = textsOf(r)[1]!;
    expect(notice).toContain(`Result cut: ${kept.length} of 1000 items of \`candles\` shown: the newest, from ${new Date(kept[0]!.timestamp).toISOString()} on; the ${dropped} oldest were dropped.`);
    const hint = notice.match(/call again with end_time=(\d+) and limit=(\d+), without start_time/);
    expect(hint, notice).not.toBeNull();

    const back = await client.callTool({ name: 'market_data_get_candles', arguments: { ...args, end_time: Number(hint![1]), limit: Number(hint![2]) } });
    expect(back.content, 'the dropped part fits in one answer').toHaveLength(1);
    expect((back.structuredContent as { candles: Candle[] }).candles).toEqual(all.slice(0, dropped));
  });

  it('previous_end_time pages back without gap or overlap, on both faces', async () => {
    const page = async (end: number | string) => {
      const r = await client.callTool({ name: 'market_data_get_candles', arguments: { connector_name: 'sim', trading_pair: 'ETH-USDT', interval: '1m', end_time: end, limit: 30 } });
      expect(r.isError ?? false).toBe(false);
      return r.structuredContent as { candles: Candle[]; truncated: boolean; previous_end_time: string | null; next_start_time: string | null };
    };
    const seen: number[] = [];
    let end: number | string = END;
    for (let i = 0; i < 3; i++) {
      const p = await page(end);
      expect(p.candles).toHaveLength(30);
      expect(p.truncated).toBe(true);
      expect(p.next_start_time).toBeNull();
      expect(p.previous_end_time).toBe(new Date(p.candles[0]!.timestamp - 1).toISOString());
      seen.unshift(...p.candles.map((c) => c.timestamp));
      end = p.previous_end_time!;
    }
    expect(seen).toHaveLength(90);
    for (let i = 1; i < seen.length; i++) expect(seen[i]! - seen[i - 1]!).toBe(MINUTE);
    expect(seen.at(-1)).toBe(END);

    const rest = await s.call('GET', `/market-data/candles/ETH-USDT?connector_name=sim&interval=1m&end_time=${END}&limit=30`);
    expect(rest.body.previous_end_time).toBe(new Date(END - 29 * MINUTE - 1).toISOString());
    // Reading forward, previous_end_time is not used.
    const fwd = await s.call('GET', `/market-data/candles/ETH-USDT?connector_name=sim&interval=1m&start_time=${END - 60 * MINUTE}&limit=30`);
    expect(fwd.body.previous_end_time).toBeNull();
    expect(fwd.body.next_start_time).toBe(new Date(END - 30 * MINUTE).toISOString());
  });
});
