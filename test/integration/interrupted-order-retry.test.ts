import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orders } from '../../src/core/db/schema/index.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * An order whose execution a database outage cut off is left stored as `pending_submit` with no fills.
 * Its retry with the same client_order_id must say what happened (failed, nothing executed) rather than
 * replay a pending order that would never execute, and must not execute it a second way either.
 */
describe.each(drivers())('retrying an order cut off by a database outage, on %s', (driver) => {
  let s: TestServer;
  const body = { account_name: 'master_account', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' };

  beforeAll(async () => {
    s = await testServer(driver);
  });
  afterAll(async () => s?.stop());

  const balances = async () => {
    const r = await s.call('GET', '/accounts/master_account/balances?connector_name=sim');
    expect(r.status).toBe(200);
    return r.body.connectors;
  };

  it('is answered as failed with nothing executed, the same on every retry', async () => {
    // A first order stores the request's fingerprint; the cut-off order is the same request under another id,
    // stored as the outage leaves it: pending, no fills.
    const first = await s.call('POST', '/trading/orders', { ...body, client_order_id: 'cut-first' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const [stored] = await s.services.db.select().from(orders).where(eq(orders.id, first.body.order.order_id));
    await s.services.db.insert(orders).values({ ...stored!, id: 'ord_cutoffbyoutage0001', clientOrderId: 'cut-off', status: 'pending_submit', filledAmount: '0', averageFillPrice: null, feePaid: '0', feeAsset: null, errorMessage: null, exchangeOrderId: null, createdAt: new Date(), updatedAt: new Date() });
    const before = await balances();

    for (let i = 0; i < 2; i++) {
      const retry = await s.call('POST', '/trading/orders', { ...body, client_order_id: 'cut-off' });
      expect(retry.status, JSON.stringify(retry.body)).toBe(201);
      expect(retry.body.replayed).toBe(true);
      expect(retry.body.order).toMatchObject({ order_id: 'ord_cutoffbyoutage0001', client_order_id: 'cut-off', status: 'failed', filled_amount: 0 });
      expect(retry.body.order.error_message).toMatch(/nothing was executed/);
      expect(retry.body.fills).toEqual([]);
    }
    expect(await balances()).toEqual(before);
    const rows = await s.services.db.select().from(orders).where(eq(orders.clientOrderId, 'cut-off'));
    expect(rows.map((r) => r.status)).toEqual(['failed']);
  });
});
