import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * Every journal row of a command that touches an account names that account, also when the caller
 * named only an order (cancel, get) or relied on the default account (place, preview, close, leverage),
 * and also when the call is refused.
 */
const ORDER = { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.001' };

describe.each(drivers())('journal rows name the account on %s', (driver) => {
  let s: TestServer;
  let n = 0;
  beforeAll(async () => {
    s = await testServer(driver);
    const acct = await s.call('POST', '/accounts', { account_name: 'side_desk', connectors: [{ connector_name: 'sim' }, { connector_name: 'sim_perpetual' }] });
    expect(acct.status).toBe(201);
  });
  afterAll(async () => s?.stop());

  /** Sends one call with its own request id and returns the answer and its journal row's account. */
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; account: unknown; outcome: unknown }> {
    const id = `acct-${++n}`;
    const res = await fetch(s.url + path, { method, headers: { authorization: ADMIN_AUTH, 'x-request-id': id, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const answer = await res.json();
    await s.services.audit.flush();
    const rows = ((await s.services.db.execute(sql`select account_name, outcome from audit_events where request_id = ${id}`)) as unknown as { rows: Array<{ account_name: unknown; outcome: unknown }> }).rows;
    expect(rows, `${method} ${path}`).toHaveLength(1);
    return { status: res.status, body: answer, account: rows[0]!.account_name, outcome: rows[0]!.outcome };
  }

  it('a cancel by order id names the order\'s account, whether it succeeds or is refused', async () => {
    const bid = (await s.call('GET', '/market-data/ticker/BTC-USDT?connector_name=sim')).body.bid as number;
    const placed = await call('POST', '/trading/orders', { ...ORDER, account_name: 'side_desk', order_type: 'limit', price: (Math.round(bid * 50) / 100).toFixed(2), client_order_id: 'resting-1' });
    expect(placed.status).toBe(201);
    const id = placed.body.order.order_id as string;

    const got = await call('GET', `/trading/orders/${id}`);
    expect([got.status, got.account]).toEqual([200, 'side_desk']);
    const canceled = await call('DELETE', `/trading/orders/${id}`);
    expect([canceled.status, canceled.account]).toEqual([200, 'side_desk']);
    const again = await call('DELETE', '/trading/orders/resting-1');
    expect([again.status, again.outcome, again.account]).toEqual([409, 'CONFLICT', 'side_desk']);
  });

  it('calls that rely on the default account name it', async () => {
    const preview = await call('POST', '/trading/orders/preview', { ...ORDER, order_type: 'market' });
    expect([preview.status, preview.account]).toEqual([200, 'master_account']);
    const placed = await call('POST', '/trading/orders', { ...ORDER, order_type: 'market' });
    expect([placed.status, placed.account]).toEqual([201, 'master_account']);
    const leverage = await call('POST', '/trading/leverage', { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', leverage: 3 });
    expect([leverage.status, leverage.account]).toEqual([200, 'master_account']);
    const close = await call('POST', '/trading/close-position', { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' });
    expect(close.account).toBe('master_account');
  });
});
