import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/core/command/index.js';
import { MAX_RESULT_CHARS, MIN_RESULT_CHARS } from '../../src/mcp/result-size.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { allCommands } from '../../src/tools/index.js';
import { mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, drivers, testServer, testServices, type TestServer } from '../helpers/test-env.js';

/** A past range of hourly candles: the same 1000 candles on every call and on both faces. */
const QUERY = { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1h', start_time: '2024-01-01T00:00:00Z', limit: 1000 };
const REST_PATH = `/market-data/candles/BTC-USDT?connector_name=sim&interval=1h&start_time=2024-01-01T00:00:00Z&limit=1000`;

type CallResult = Awaited<ReturnType<Client['callTool']>>;
const textsOf = (r: CallResult) => (r.content as Array<{ type: string; text: string }>).map((c) => c.text);
const sizeOf = (r: CallResult) => textsOf(r).reduce((n, t) => n + t.length, 0);

describe.each(drivers())('large results over MCP on %s', (driver) => {
  let s: TestServer;
  let client: Client;

  beforeAll(async () => {
    s = await testServer(driver);
    client = await mcpClient(s.url, ADMIN_AUTH, 'e2e-result-size');
    // Listing first makes the client validate every structuredContent against the tool's outputSchema.
    await client.listTools();
  });
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await s?.stop();
  });

  it('1000 candles read forward are cut to the default limit, keep the oldest (no hole before the next page), and say where to go on', async () => {
    const rest = await s.call('GET', REST_PATH);
    expect(rest.status).toBe(200);
    expect(rest.body.candles).toHaveLength(1000);
    // Measured, not assumed: the full result is over the limit.
    expect(rest.text.length).toBeGreaterThan(MAX_RESULT_CHARS);

    const r = await client.callTool({ name: 'market_data_get_candles', arguments: QUERY });
    expect(r.isError ?? false).toBe(false);
    const [json, notice, ...rest2] = textsOf(r);
    expect(rest2).toEqual([]);
    expect(JSON.parse(json!)).toEqual(r.structuredContent);
    expect(sizeOf(r)).toBeLessThanOrEqual(MAX_RESULT_CHARS);

    const out = r.structuredContent as { candles: unknown[]; truncated: boolean };
    expect(out.candles.length).toBeGreaterThan(500);
    expect(out.candles.length).toBeLessThan(1000);
    expect(out.candles).toEqual(rest.body.candles.slice(0, out.candles.length));
    expect({ ...out, candles: [] }).toEqual({ ...rest.body, candles: [] });
    expect(notice).toContain(`Result cut: ${out.candles.length} of 1000 items of \`candles\` shown: the oldest`);
    expect(notice).toContain(`call again with start_time=${rest.body.candles[out.candles.length].time}`);
    expect(notice).toMatch(/Narrow the query/);
  });

  it('a result under the limit is one block, the same as REST', async () => {
    const r = await client.callTool({ name: 'market_data_get_candles', arguments: { ...QUERY, limit: 50 } });
    expect(r.content).toHaveLength(1);
    const rest = await s.call('GET', REST_PATH.replace('limit=1000', 'limit=50'));
    expect(r.structuredContent).toEqual(rest.body);
  });
});

describe('the limit is a server option', () => {
  let client: Client;
  let close: () => Promise<void>;
  const LIMIT = 20_000;

  beforeAll(async () => {
    const svc = await testServices('postgres');
    const server = createMcpServer({
      registry: createRegistry(allCommands),
      services: svc.services,
      principal: { name: 'limits', role: 'admin' },
      surface: { channel: 'mcp', toolsets: 'all', readOnly: false },
      version: 'test',
      maxResultChars: LIMIT,
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    client = new Client({ name: 'limits', version: '0' });
    await server.connect(serverSide);
    await client.connect(clientSide);
    await client.listTools();
    close = async () => {
      await client.close();
      await server.close();
      await svc.close();
    };
  });
  afterAll(async () => close?.());

  it('cuts to the configured limit', async () => {
    const r = await client.callTool({ name: 'market_data_get_candles', arguments: { ...QUERY, limit: 400 } });
    expect(r.isError ?? false).toBe(false);
    expect(sizeOf(r)).toBeLessThanOrEqual(LIMIT);
    const shown = (r.structuredContent as { candles: unknown[] }).candles.length;
    expect(shown).toBeGreaterThan(50);
    expect(textsOf(r)[1]).toContain(`Result cut: ${shown} of 400 items of \`candles\` shown`);
  });

  it('refuses a limit too small to be useful, or not a whole number', () => {
    const options = { registry: createRegistry(allCommands), services: {} as never, principal: { name: 'x', role: 'admin' as const }, surface: { channel: 'mcp' as const, toolsets: 'all' as const, readOnly: false }, version: 't' };
    expect(() => createMcpServer({ ...options, maxResultChars: MIN_RESULT_CHARS - 1 })).toThrow(/maxResultChars/);
    expect(() => createMcpServer({ ...options, maxResultChars: 12_345.5 })).toThrow(/maxResultChars/);
  });
});
