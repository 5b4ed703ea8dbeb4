import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { mcpCall, mcpClient } from '../helpers/mcp-call.js';
import { basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { ManualClock } from '../../src/core/clock.js';

const SCOTY = basicHeader('scoty', 'scoty-trader-password');
const PINNED = Date.UTC(2026, 5, 1, 12, 0, 0, 0);

/**
 * A trader limited to one account sees and trades only that account, over REST and MCP alike: another
 * account reads exactly like a missing one, and every listing leaves the other accounts out.
 */
describe.each(drivers())('account scoping on %s', (driver) => {
  let s: TestServer;
  let agent: Client;
  let betaOrder = '';
  const limitBuy = async (account: string, extra: Record<string, unknown> = {}) => {
    const ask = (await s.call('GET', '/market-data/ticker/BTC-USDT?connector_name=sim')).body.ask as number;
    return { account_name: account, connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '0.001', price: (Math.round(ask * 50) / 100).toFixed(2), ...extra };
  };
  const count = async (account: string) => ((await s.services.db.execute(sql`select count(*)::int as n from orders where account_name = ${account}`)) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n;
  const accountsIn = (rows: Array<{ account_name: string | null }>) => [...new Set(rows.map((r) => r.account_name))].sort();

  beforeAll(async () => {
    s = await testServer(driver, {}, { clock: new ManualClock(PINNED) });
    for (const a of ['alpha', 'beta']) expect((await s.call('POST', '/accounts', { account_name: a, connectors: [{ connector_name: 'sim' }] })).status).toBe(201);
    const created = await s.call('POST', '/users', { username: 'scoty', password: 'scoty-trader-password', role: 'trader', accounts: ['alpha'] });
    expect(created.status).toBe(201);
    expect(created.body.accounts).toEqual(['alpha']);
    betaOrder = (await s.call('POST', '/trading/orders', await limitBuy('beta'))).body.order.order_id;
    expect((await s.call('POST', '/trading/orders', { account_name: 'beta', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' })).status).toBe(201);
    expect((await s.call('POST', '/trading/orders', await limitBuy('alpha', { client_order_id: 'alpha-1' }), SCOTY)).status).toBe(201);
    agent = await mcpClient(s.url, SCOTY, 'scoty');
  });
  afterAll(async () => {
    await agent?.close();
    await s?.stop();
  });

  it('another account reads exactly like a missing one, on every route that names it', async () => {
    const ghost = await s.call('GET', '/accounts/ghost/balances', undefined, SCOTY);
    const beta = await s.call('GET', '/accounts/beta/balances', undefined, SCOTY);
    expect(beta.status).toBe(404);
    expect(beta.body.error.message).toBe(ghost.body.error.message.replace('ghost', 'beta'));
    const refused: Array<[string, string, unknown?]> = [
      ['POST', '/trading/orders', await limitBuy('beta')],
      ['POST', '/trading/orders/preview', await limitBuy('beta')],
      ['POST', '/trading/leverage', { account_name: 'beta', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', leverage: 2 }],
      ['POST', '/trading/close-position', { account_name: 'beta', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' }],
      ['GET', '/trading/orders?account_name=beta'],
      ['GET', '/trading/history?account_name=beta'],
      ['GET', '/trading/positions?account_name=beta'],
      ['GET', '/portfolio/balances?account_names=alpha,beta'],
      ['GET', '/portfolio/distribution?account_names=beta'],
      ['GET', '/portfolio/history?account_names=beta'],
      ['GET', '/portfolio/performance?account_names=beta'],
      ['GET', '/safety/status?account_name=beta'],
      ['GET', '/audit/events?account_name=beta'],
      ['POST', '/safety/kill-switch', { account_name: 'beta', reason: 'scope test' }],
    ];
    for (const [method, path, body] of refused) {
      const r = await s.call(method, path, body, SCOTY);
      expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, 404, 'NOT_FOUND']);
    }
    expect(await count('beta')).toBe(2);
  });

  it('an order without an account goes to master_account, which is outside the list', async () => {
    const r = await s.call('POST', '/trading/orders', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' }, SCOTY);
    expect(r.status).toBe(404);
    expect(r.body.error.message).toBe('There is no account named master_account.');
  });

  it('an order of another account cannot be read or canceled by its id', async () => {
    expect((await s.call('GET', `/trading/orders/${betaOrder}`, undefined, SCOTY)).body.error.code).toBe('NOT_FOUND');
    expect((await s.call('DELETE', `/trading/orders/${betaOrder}`, undefined, SCOTY)).body.error.code).toBe('NOT_FOUND');
    expect((await s.call('GET', `/trading/orders/${betaOrder}`)).body.order.status).toBe('open');
    expect((await s.call('GET', '/trading/orders/alpha-1', undefined, SCOTY)).status).toBe(200);
  });

  it('listings hold only the principal\'s accounts', async () => {
    expect((await s.call('GET', '/accounts', undefined, SCOTY)).body.data.map((a: { account_name: string }) => a.account_name)).toEqual(['alpha']);
    expect(accountsIn((await s.call('GET', '/trading/orders?status=all', undefined, SCOTY)).body.data)).toEqual(['alpha']);
    expect(accountsIn((await s.call('GET', '/trading/orders?status=all')).body.data)).toEqual(['alpha', 'beta']);
    const fills = (await s.call('GET', '/trading/history', undefined, SCOTY)).body.data;
    expect(fills.every((f: { account_name: string }) => f.account_name === 'alpha')).toBe(true);
    expect(accountsIn((await s.call('GET', '/trading/history')).body.data)).toContain('beta');
    expect((await s.call('GET', '/trading/positions', undefined, SCOTY)).body.data.every((p: { account_name: string }) => p.account_name === 'alpha')).toBe(true);
    expect(accountsIn((await s.call('GET', '/portfolio/balances', undefined, SCOTY)).body.accounts)).toEqual(['alpha']);
    const status = (await s.call('GET', '/safety/status', undefined, SCOTY)).body;
    expect(accountsIn(status.accounts)).toEqual(['alpha']);
    expect(status.recent_denials.every((d: { account_name: string | null; principal: string }) => d.account_name === 'alpha' || (d.account_name === null && d.principal === 'scoty'))).toBe(true);
    const events = (await s.call('GET', '/audit/events?limit=1000', undefined, SCOTY)).body.data as Array<{ account_name: string | null; principal: string }>;
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.account_name === 'alpha' || (e.account_name === null && e.principal === 'scoty'))).toBe(true);
    expect(accountsIn((await s.call('GET', '/audit/events?limit=1000')).body.data)).toContain('beta');
  });

  it('the portfolio\'s totals cover only the principal\'s accounts', async () => {
    const mine = (await s.call('GET', '/portfolio/balances', undefined, SCOTY)).body;
    const alphaOnly = (await s.call('GET', '/portfolio/balances?account_names=alpha')).body;
    expect(mine.total_value).toBe(alphaOnly.total_value);
    const dist = (await s.call('GET', '/portfolio/distribution', undefined, SCOTY)).body;
    expect(dist.total_value).toBe((await s.call('GET', '/portfolio/distribution?account_names=alpha')).body.total_value);
  });

  it('the same holds over MCP', async () => {
    const order = await mcpCall(agent, 'trading_place_order', await limitBuy('beta'));
    expect(order.ok ? 'ok' : order.code).toBe('NOT_FOUND');
    const listed = await mcpCall(agent, 'accounts_list_accounts', {});
    expect(listed.ok && listed.output.data.map((a: { account_name: string }) => a.account_name)).toEqual(['alpha']);
    const orders = await mcpCall(agent, 'trading_list_orders', { status: 'all' });
    expect(orders.ok && accountsIn(orders.output.data)).toEqual(['alpha']);
    const placed = await mcpCall(agent, 'trading_place_order', await limitBuy('alpha'));
    expect(placed.ok, JSON.stringify(placed)).toBe(true);
  });

  it('a scoped trader may stop its own account but not every account', async () => {
    const global = await s.call('POST', '/safety/kill-switch', { reason: 'stop all' }, SCOTY);
    expect(global.status).toBe(403);
    expect(global.body.error.code).toBe('POLICY_DENIED');
    expect((await s.call('GET', '/safety/status')).body.global_kill_switch).toBeNull();
    const own = await s.call('POST', '/safety/kill-switch', { account_name: 'alpha', reason: 'stop mine' }, SCOTY);
    expect(own.status).toBe(200);
    expect((await s.call('POST', '/safety/kill-switch/clear', { account_name: 'alpha' })).status).toBe(200);
  });

  it('an admin changes the list and the next request follows it', async () => {
    const widened = await s.call('PUT', '/users/scoty', { accounts: null });
    expect(widened.body.accounts).toBeNull();
    expect((await s.call('GET', '/accounts/beta/balances', undefined, SCOTY)).status).toBe(200);
    expect((await s.call('PUT', '/users/scoty', { accounts: ['alpha', 'alpha'] })).body.accounts).toEqual(['alpha']);
    expect((await s.call('GET', '/accounts/beta/balances', undefined, SCOTY)).status).toBe(404);
    expect((await s.call('GET', '/users')).body.data.find((u: { username: string }) => u.username === 'scoty').accounts).toEqual(['alpha']);
    expect((await s.services.users.principal('scoty'))?.accounts).toEqual(['alpha']);
  });

  it('an account list is validated', async () => {
    const empty = await s.call('PUT', '/users/scoty', { accounts: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.issues[0].path).toBe('accounts');
    const bad = await s.call('PUT', '/users/scoty', { accounts: ['bad name!'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('accounts.0');
  });

  it('an admin is never scoped', async () => {
    expect((await s.call('POST', '/users', { username: 'boss', password: 'boss-admin-password', role: 'admin', accounts: ['alpha'] })).status).toBe(201);
    expect((await s.call('GET', '/accounts/beta/balances', undefined, basicHeader('boss', 'boss-admin-password'))).status).toBe(200);
  });
});
