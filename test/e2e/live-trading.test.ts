import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desc, eq } from 'drizzle-orm';
import { auditEvents, orders } from '../../src/core/db/schema/index.js';
import { ccxtOptionsFor, startBinanceFixture, type BinanceFixture } from '../fixtures/binance-fixture.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';

const KEY = 'live-key-0123456789';
const SECRET = 'live-secret-0123456789';
const isOrderPost = (r: { method: string; path: string }) => r.method === 'POST' && r.path === '/api/v3/order';

/**
 * The live path end to end: our server, ccxt's own binance class, and a local server speaking Binance's
 * REST wire format. Orders go through POST /trading/orders like any other.
 */
describe.each(drivers())('live trading through ccxt on %s', (driver) => {
  let fx: BinanceFixture;
  let s: TestServer;

  beforeAll(async () => {
    fx = await startBinanceFixture({ accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '10000', BTC: '0.5' } }] });
    s = await testServer(driver, {}, { ccxt: () => ccxtOptionsFor(fx) });
    const r = await s.call('POST', '/accounts', { account_name: 'live', connectors: [{ connector_name: 'binance', credentials: { api_key: KEY, secret: SECRET } }] });
    expect(r.status).toBe(201);
    const bad = await s.call('POST', '/accounts', { account_name: 'badkey', connectors: [{ connector_name: 'binance', credentials: { api_key: 'wrong-key-000000', secret: SECRET } }] });
    expect(bad.status).toBe(201);
    // New accounts are paper-only; these two are switched to live by the admin, with an explicit cap decision.
    for (const a of ['live', 'badkey']) expect((await s.call('PUT', `/accounts/${a}/policy`, { mode: 'live', max_order_notional: 'none' })).status).toBe(200);
  });
  afterAll(async () => {
    await s?.stop();
    await fx?.close();
  });

  const place = (body: Record<string, unknown>) => s.call('POST', '/trading/orders', { account_name: 'live', connector_name: 'binance', trading_pair: 'BTC-USDT', ...body });

  it('reads balances from the exchange', async () => {
    const r = await s.call('GET', '/accounts/live/balances?connector_name=binance');
    expect(r.status).toBe(200);
    const usdt = r.body.connectors[0].balances.find((b: { asset: string }) => b.asset === 'USDT');
    expect(usdt.total).toBeGreaterThan(0);
  });

  it('places a market order once and records its fills', async () => {
    const r = await place({ side: 'buy', order_type: 'market', amount: '0.01', client_order_id: 'live-mkt-1' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.order.status).toBe('filled');
    expect(r.body.order.filled_amount).toBe(0.01);
    expect(r.body.fills.length).toBeGreaterThan(0);
    expect(fx.placements(r.body.order.order_id)).toBe(1);
    // A retry with the same client_order_id returns the same order and sends nothing.
    const again = await place({ side: 'buy', order_type: 'market', amount: '0.01', client_order_id: 'live-mkt-1' });
    expect(again.body.replayed).toBe(true);
    expect(again.body.order.order_id).toBe(r.body.order.order_id);
    expect(fx.placements(r.body.order.order_id)).toBe(1);
  });

  it('rests, lists and cancels a limit order', async () => {
    const t = await s.call('GET', '/market-data/ticker/BTC-USDT?connector_name=binance');
    expect(t.status).toBe(200);
    const price = (Math.floor(t.body.last * 0.7 * 100) / 100).toFixed(2);
    const r = await place({ side: 'buy', order_type: 'limit', amount: '0.001', price });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.order.status).toBe('open');
    const listed = await s.call('GET', '/trading/orders?account_name=live');
    expect(listed.body.data.map((o: { order_id: string }) => o.order_id)).toContain(r.body.order.order_id);
    const c = await s.call('DELETE', `/trading/orders/${r.body.order.order_id}`);
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body.order.status).toBe('canceled');
  });

  it('a rejected order is UPSTREAM_REJECTED and stored as rejected', async () => {
    const r = await place({ side: 'buy', order_type: 'market', amount: '5' });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('UPSTREAM_REJECTED');
    const [row] = await s.services.db.select().from(orders).where(eq(orders.accountName, 'live')).orderBy(orders.createdAt).then((rows) => rows.slice(-1));
    expect(row!.status).toBe('rejected');
  });

  it('a bad key is PRECONDITION_FAILED with a hint', async () => {
    const r = await s.call('POST', '/trading/orders', { account_name: 'badkey', connector_name: 'binance', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' });
    expect(r.status).toBe(412);
    expect(r.body.error.code).toBe('PRECONDITION_FAILED');
    expect(r.body.error.hint).toMatch(/PUT \/accounts/);
  });

  it('a connection dropped after the exchange took the order: found by client id, not sent again', async () => {
    fx.fault({ mode: 'drop_after', match: isOrderPost, times: 1 });
    const r = await place({ side: 'sell', order_type: 'market', amount: '0.002' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.order.status).toBe('filled');
    expect(fx.placements(r.body.order.order_id)).toBe(1);
  });

  it('a connection dropped before the exchange saw the order: not placed, said so', async () => {
    fx.fault({ mode: 'drop', match: isOrderPost, times: 1 });
    const r = await place({ side: 'sell', order_type: 'market', amount: '0.002' });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(r.body.error.message).toMatch(/not placed/);
    const id = r.body.error.details.order_id as string;
    const [row] = await s.services.db.select().from(orders).where(eq(orders.id, id));
    expect(row!.status).toBe('failed');
    // One attempt, dropped on arrival: the exchange holds no such order, and we did not try again.
    expect(fx.placements(id)).toBe(1);
    expect(fx.orders(KEY).some((o) => o.clientOrderId === id)).toBe(false);
  });

  it('the journal holds the intent, with its value, before the order reaches the exchange', async () => {
    let atExchange: Promise<Array<{ outcome: string; notional: string | null }>> | undefined;
    // Look at the journal at the moment the exchange receives the order (the order then gets no answer).
    fx.fault({
      mode: 'hang_after',
      times: 1,
      match: (q) => {
        if (!isOrderPost(q)) return false;
        atExchange = s.services.db.select({ outcome: auditEvents.outcome, notional: auditEvents.notional }).from(auditEvents).where(eq(auditEvents.command, 'trading_place_order')).orderBy(desc(auditEvents.id)).limit(1).then((rows) => rows); // .then runs the query now, not when awaited
        return true;
      },
    });
    // The lost answer is recovered by looking the order up by its client id.
    const r = await place({ side: 'buy', order_type: 'market', amount: '0.001', client_order_id: 'journal-first' });
    expect(r.status, r.text).toBe(201);
    const [seen] = await atExchange!;
    expect(seen!.outcome).toBe('PENDING');
    expect(Number(seen!.notional)).toBeGreaterThan(0);
    const [done] = await s.services.db.select().from(auditEvents).where(eq(auditEvents.command, 'trading_place_order')).orderBy(desc(auditEvents.id)).limit(1);
    expect(done!.outcome).toBe('OK');
    expect(fx.placements(r.body.order.order_id)).toBe(1);
  });

  it('no answer at all: the outcome is reported unknown, then reconciled without a second placement', async () => {
    fx.fault({ mode: 'hang_after', match: isOrderPost, times: 1 });
    fx.fault({ mode: 'hang', match: (q) => q.method === 'GET' && q.path === '/api/v3/order', times: 1 });
    const r = await place({ side: 'buy', order_type: 'market', amount: '0.001' });
    expect([503, 504]).toContain(r.status);
    expect(r.body.error.hint).toMatch(/GET \/trading\/orders\/ord_/);
    const id = r.body.error.details.order_id as string;
    const [pending] = await s.services.db.select().from(orders).where(eq(orders.id, id));
    expect(pending!.status).toBe('pending_submit');
    fx.clearFaults();
    const rec = await s.services.trading.reconcile();
    expect(rec.live_resolved).toBeGreaterThanOrEqual(1);
    const [after] = await s.services.db.select().from(orders).where(eq(orders.id, id));
    expect(after!.status).toBe('filled');
    expect(fx.placements(id)).toBe(1);
  });
});
