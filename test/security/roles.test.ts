import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { TRADER, USERS, VIEWER } from '../helpers/guardrail-harness.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';

/** Principals beyond the one admin: what each role may do, the same over REST as the core enforces everywhere. */
describe.each(drivers())('users and roles on %s', (driver) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer(driver);
    for (const username of ['tina', 'vic'] as const) expect((await s.call('POST', '/users', { username, ...USERS[username] })).status).toBe(201);
  });
  afterAll(async () => s?.stop());

  const counts = async () =>
    ((await s.services.db.execute(sql`select (select count(*) from orders)::int as o, (select count(*) from accounts)::int as a, (select count(*) from users)::int as u`)) as unknown as { rows: unknown[] }).rows[0];

  it('stores only password hashes', async () => {
    const rows = ((await s.services.db.execute(sql`select * from users`)) as unknown as { rows: unknown[] }).rows;
    expect(JSON.stringify(rows)).not.toContain(USERS.tina.password);
    expect(JSON.stringify(rows)).toContain('scrypt$');
  });

  it('a viewer reads but changes nothing', async () => {
    expect((await s.call('GET', '/accounts/master_account/balances', undefined, VIEWER)).status).toBe(200);
    const before = await counts();
    const order = await s.call('POST', '/trading/orders', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' }, VIEWER);
    expect(order.status).toBe(403);
    expect(order.body.error.code).toBe('POLICY_DENIED');
    expect((await s.call('POST', '/accounts', { account_name: 'by_viewer' }, VIEWER)).status).toBe(403);
    expect((await s.call('GET', '/users', undefined, VIEWER)).status).toBe(403);
    expect(await counts()).toEqual(before);
  });

  it('a trader trades but cannot touch accounts, credentials or users', async () => {
    const order = await s.call('POST', '/trading/orders', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' }, TRADER);
    expect(order.status).toBe(201);
    const before = await counts();
    expect((await s.call('POST', '/accounts', { account_name: 'by_trader' }, TRADER)).body.error.code).toBe('POLICY_DENIED');
    expect((await s.call('PUT', '/accounts/master_account/paper-balances', { connector_name: 'sim', balances: { USDT: 1e9 } }, TRADER)).status).toBe(403);
    expect((await s.call('POST', '/users', { username: 'eve', password: 'a-long-password', role: 'admin' }, TRADER)).status).toBe(403);
    expect(await counts()).toEqual(before);
  });

  it('a role change and a deletion take effect on the next request', async () => {
    expect((await s.call('PUT', '/users/vic', { role: 'trader' })).body.role).toBe('trader');
    const now = await s.call('POST', '/trading/orders', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'sell', order_type: 'market', amount: '0.001' }, VIEWER);
    expect(now.status).toBe(201);
    expect((await s.call('DELETE', '/users/vic')).status).toBe(200);
    expect((await s.call('GET', '/accounts', undefined, VIEWER)).status).toBe(401);
  });

  it('the last stored admin cannot be demoted or deleted', async () => {
    expect((await s.call('POST', '/users', { username: 'root2', password: 'admin-password-1', role: 'admin' })).status).toBe(201);
    expect((await s.call('PUT', '/users/root2', { role: 'viewer' })).body.error.code).toBe('PRECONDITION_FAILED');
    expect((await s.call('DELETE', '/users/root2')).body.error.code).toBe('PRECONDITION_FAILED');
    expect((await s.call('GET', '/users')).body.data.map((u: { username: string }) => u.username)).toContain('root2');
  });

  it('users are never listed over MCP tools', async () => {
    const listed = s.registry.commands.filter((c) => c.group === 'users').map((c) => c.channels ?? ['rest', 'mcp']);
    expect(listed.length).toBe(4);
    for (const ch of listed) expect(ch).toEqual(['rest']);
  });
});
