import { rawRequest as raw } from '../helpers/raw-http.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, structuredOf as structured } from '../helpers/errors.js';
import { ADMIN_AUTH, basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';


const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** A raw HTTP request, so the Host and Origin headers are exactly what the test says. */

const mcpHeaders = (extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...extra,
});

describe.each(drivers())('MCP over streamable HTTP on %s', (driver) => {
  let s: TestServer;
  let client: Client;

  beforeAll(async () => {
    s = await testServer(driver);
    client = new Client({ name: 'e2e-http', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { authorization: ADMIN_AUTH } } });
    await client.connect(transport);
  });
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await s?.stop();
  });

  it('initializes with server instructions', () => {
    expect(client.getServerVersion()?.name).toBe('tradedesk');
    expect(client.getInstructions()?.length).toBeGreaterThan(50);
  });

  it('lists the agent tools, not the REST-only admin commands', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(['connectors_list_connectors', 'connectors_get_connector', 'connectors_get_trading_rules', 'connectors_list_markets', 'accounts_list_accounts', 'accounts_get_balances']),
    );
    for (const n of ['accounts_create_account', 'accounts_update_account', 'accounts_delete_account']) expect(names).not.toContain(n);
  });

  it('calls tools and returns structured results', async () => {
    const conn = structured(await client.callTool({ name: 'connectors_get_connector', arguments: { connector_name: 'sim' } }));
    expect(conn).toMatchObject({ name: 'sim', kind: 'sim', offline: true, requires_credentials: false });

    const rules = structured(await client.callTool({ name: 'connectors_get_trading_rules', arguments: { connector_name: 'sim', trading_pairs: ['BTC-USDT'] } }));
    expect(rules.data).toEqual([
      { trading_pair: 'BTC-USDT', min_order_size: 0.00001, max_order_size: 9000, min_price_increment: 0.01, min_base_amount_increment: 0.00001, min_notional_size: 5, max_leverage: null, supported_order_types: ['market', 'limit', 'limit_maker'] },
    ]);

    const markets = structured(await client.callTool({ name: 'connectors_list_markets', arguments: { connector_name: 'sim_perpetual', search: 'eth' } }));
    expect(markets.data.map((m: { trading_pair: string }) => m.trading_pair)).toEqual(['ETH-USDT']);

    const bal = structured(await client.callTool({ name: 'accounts_get_balances', arguments: { account_name: 'master_account', connector_name: 'sim' } }));
    expect(bal.connectors[0].balances).toEqual([
      { asset: 'BTC', total: 1, available: 1, locked: 0 },
      { asset: 'USDT', total: 10000, available: 10000, locked: 0 },
    ]);
  });

  it('a bad argument is an isError result with VALIDATION_FAILED and paths', async () => {
    const err = errorOf(await client.callTool({ name: 'connectors_list_markets', arguments: { connector_name: 42, limit: 0, extra: 'x' } }));
    expect(err.code).toBe('VALIDATION_FAILED');
    const paths = err.details!.issues!.map((i) => i.path);
    expect(paths).toContain('connector_name');
    expect(paths).toContain('limit');
    expect(err.details!.issues!.some((i) => i.message.includes('extra'))).toBe(true);
  });

  it('an admin over MCP still cannot run REST-only commands', async () => {
    const err = errorOf(await client.callTool({ name: 'accounts_delete_account', arguments: { account_name: 'master_account' } }));
    expect(err.code).toBe('POLICY_DENIED');
    const r = await s.call('GET', '/accounts');
    expect(r.body.data.map((a: { account_name: string }) => a.account_name)).toContain('master_account');
  });

  it('without credentials the SDK client cannot connect', async () => {
    const c = new Client({ name: 'anon', version: '1' });
    const err = await c.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`))).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: number },
    );
    await c.close().catch(() => undefined);
    expect(err).toBeInstanceOf(Error);
    // The SDK's StreamableHTTPError carries the HTTP status as its code; the message holds our JSON error.
    expect(err!.code).toBe(401);
    expect(err!.message).toContain('UNAUTHENTICATED');
  });

  it('without credentials a raw POST is 401 UNAUTHENTICATED with a Basic challenge', async () => {
    const res = await fetch(`${s.url}/mcp`, { method: 'POST', headers: mcpHeaders(), body: JSON.stringify(INIT) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    const body = (await res.json()) as { error: { code: string; message: string; retryable: boolean } };
    expect(body.error.code).toBe('UNAUTHENTICATED');
    expect(body.error.retryable).toBe(false);
  });

  it('a wrong password is 401 too', async () => {
    const res = await fetch(`${s.url}/mcp`, { method: 'POST', headers: mcpHeaders({ authorization: basicHeader('admin', 'wrong-password') }), body: JSON.stringify(INIT) });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
  });

  it('a raw authenticated POST initialize answers JSON-RPC', async () => {
    const r = await raw(s.url, { method: 'POST', path: '/mcp', headers: mcpHeaders({ authorization: ADMIN_AUTH }), body: JSON.stringify(INIT) });
    expect(r.status).toBe(200);
    expect(r.body.jsonrpc).toBe('2.0');
    expect(r.body.id).toBe(1);
    expect(r.body.result.serverInfo.name).toBe('tradedesk');
  });

  it('a foreign Host header is refused with 403 POLICY_DENIED (DNS rebinding)', async () => {
    const port = new URL(s.url).port;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) {
      const r = await raw(s.url, { method: 'POST', path: '/mcp', headers: mcpHeaders({ authorization: ADMIN_AUTH, host }), body: JSON.stringify(INIT) });
      expect(r.status, host).toBe(403);
      expect(r.body.error.code).toBe('POLICY_DENIED');
      expect(r.body.error.hint).toMatch(/MCP_ALLOWED_HOSTS/);
    }
  });

  it('accepts the loopback Host names', async () => {
    const port = new URL(s.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, 'LOCALHOST']) {
      const r = await raw(s.url, { method: 'POST', path: '/mcp', headers: mcpHeaders({ authorization: ADMIN_AUTH, host }), body: JSON.stringify(INIT) });
      expect(r.status, host).toBe(200);
    }
  });

  it('a foreign Origin header is refused with 403', async () => {
    for (const origin of ['https://evil.example', 'http://evil.example:8000', 'http://localhost.evil.example', 'not a url']) {
      const r = await raw(s.url, { method: 'POST', path: '/mcp', headers: mcpHeaders({ authorization: ADMIN_AUTH, origin }), body: JSON.stringify(INIT) });
      expect(r.status, origin).toBe(403);
      expect(r.body.error.code).toBe('POLICY_DENIED');
    }
  });

  it("the server's own Origin is accepted", async () => {
    const r = await raw(s.url, { method: 'POST', path: '/mcp', headers: mcpHeaders({ authorization: ADMIN_AUTH, origin: s.url }), body: JSON.stringify(INIT) });
    expect(r.status).toBe(200);
  });

  it('GET /mcp with credentials is 405 (stateless: POST only)', async () => {
    const res = await fetch(`${s.url}/mcp`, { headers: { authorization: ADMIN_AUTH, accept: 'text/event-stream' } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    const body = (await res.json()) as { jsonrpc: string; error: { message: string } };
    expect(body.jsonrpc).toBe('2.0');
  });

  it('DELETE /mcp with credentials is 405 as well', async () => {
    const res = await fetch(`${s.url}/mcp`, { method: 'DELETE', headers: { authorization: ADMIN_AUTH } });
    expect(res.status).toBe(405);
  });
});
