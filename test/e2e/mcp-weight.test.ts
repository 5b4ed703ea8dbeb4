import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_PAGE_LIMIT } from '../../src/core/pagination.js';
import { mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * What a model pays to use the server: the tool listing on every conversation, and each result. The
 * listing of the default toolsets was 64,234 bytes before it was compacted; default pages over MCP are
 * small (the caller asks for more with `limit`), while REST keeps its pages.
 */
const LISTING_BEFORE = 64_234;

type CallResult = Awaited<ReturnType<Client['callTool']>>;
const sizeOf = (r: CallResult) => (r.content as Array<{ text: string }>).reduce((n, t) => n + t.text.length, 0);

describe.each(drivers())('what a model reads on %s', (driver) => {
  let s: TestServer;
  let client: Client;
  const sizes: Record<string, number> = {};

  beforeAll(async () => {
    s = await testServer(driver);
    client = await mcpClient(s.url, ADMIN_AUTH, 'weight');
    // Enough journal rows and orders for full pages: 30 orders, each a journal row and a fill.
    for (let i = 0; i < 30; i++) {
      const r = await s.call('POST', '/trading/orders', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: i % 2 ? 'buy' : 'sell', order_type: 'market', amount: '0.001' });
      expect(r.status, r.text).toBe(201);
    }
  });
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await s?.stop();
    console.log(`MCP weight on ${driver}: ${JSON.stringify(sizes)}`);
  });

  it('the tool listing is well under half of what it was, and every tool still says what it does', async () => {
    const { tools } = await client.listTools();
    sizes.tools_list_bytes = Buffer.byteLength(JSON.stringify({ tools }));
    expect(sizes.tools_list_bytes).toBeLessThan(LISTING_BEFORE * 0.5);
    for (const t of tools) {
      expect(t.description!.length, t.name).toBeGreaterThan(60);
      expect(t.description!.length, t.name).toBeLessThanOrEqual(450);
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema?.type).toBe('object');
    }
  });

  it.each([
    ['audit_search_events', '/audit/events', {}],
    ['connectors_list_connectors', '/connectors', {}],
    ['trading_list_fills', '/trading/history', {}],
    ['trading_list_orders', '/trading/orders?status=all', { status: 'all' }],
  ] as const)('%s: a small default page over MCP, 100 items over REST, more on request', async (name, path, args) => {
    const rest = await s.call('GET', path);
    expect(rest.status).toBe(200);
    expect(rest.body.pagination.limit).toBe(100);
    expect(rest.body.data.length).toBeGreaterThan(MCP_PAGE_LIMIT);

    const r = await client.callTool({ name, arguments: args });
    expect(r.isError ?? false).toBe(false);
    const out = r.structuredContent as { data: unknown[]; pagination: { limit: number; has_more: boolean } };
    expect(out.pagination).toMatchObject({ limit: MCP_PAGE_LIMIT, has_more: true });
    expect(out.data).toHaveLength(MCP_PAGE_LIMIT);
    sizes[name] = sizeOf(r);

    const more = await client.callTool({ name, arguments: { ...args, limit: 25 } });
    expect((more.structuredContent as { data: unknown[] }).data).toHaveLength(25);
  });
});
