import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { ManualClock } from '../../src/core/clock.js';

/**
 * Many orders at once on one account, through the REST server: the balance check and the update must
 * not interleave (no overdraft, no lost update), and retries of one client_order_id make one order.
 */

const D = (v: number | string) => new Decimal(String(v));
/** Pinned so that every order meets the same book and costs exactly the same. */
const PINNED_NOW = Date.UTC(2026, 3, 2, 9, 30, 0, 250);
const START_USDT = '1000';

interface Fill {
  order_id: string;
  price: number;
  amount: number;
  fee: number;
}

describe.each(drivers())('concurrent orders on %s', (driver) => {
  let s: TestServer;

  const balancesOf = async (account: string) => {
    const r = await s.call('GET', `/accounts/${account}/balances?connector_name=sim`);
    expect(r.status).toBe(200);
    return Object.fromEntries((r.body.connectors[0].balances as Array<{ asset: string; total: number; locked: number; available: number }>).map((b) => [b.asset, b]));
  };
  const rawBalances = async (account: string) =>
    ((await s.services.db.execute(sql`select asset, total::text as total, locked::text as locked from paper_balances where account_name = ${account} and connector_name = 'sim'`)) as unknown as {
      rows: Array<{ asset: string; total: string; locked: string }>;
    }).rows;

  beforeAll(async () => {
    s = await testServer(driver, {}, { clock: new ManualClock(PINNED_NOW) });
    for (const account of ['racer', 'retrier']) {
      const r = await s.call('POST', '/accounts', { account_name: account, connectors: [{ connector_name: 'sim', paper_balances: { USDT: START_USDT } }] });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
  });
  afterAll(async () => s?.stop());

  it('20 concurrent market buys worth more than the balance: the ones that fill never overdraw, the rest are refused for funds', async () => {
    const body = { account_name: 'racer', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.002' };
    const results = await Promise.all(Array.from({ length: 20 }, () => s.call('POST', '/trading/orders', body)));

    const ok = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    for (const r of refused) {
      expect(r.status, JSON.stringify(r.body)).toBe(422);
      expect(r.body.error.code).toBe('UPSTREAM_REJECTED');
      expect(r.body.error.details).toMatchObject({ reason: 'insufficient_funds', asset: 'USDT' });
    }
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);

    // Every order meets the same pinned book, so each fill costs the same; as many fill as the balance pays for.
    const costs = ok.map((r) => {
      expect(r.body.order.status).toBe('filled');
      const fills = r.body.fills as Fill[];
      return fills.reduce((sum, f) => sum.plus(D(f.amount).times(D(f.price))).plus(D(f.fee)), D(0));
    });
    for (const c of costs) expect(c.toString()).toBe(costs[0]!.toString());
    expect(ok.length).toBe(D(START_USDT).div(costs[0]!).floor().toNumber());

    // Exactly: the balance went down by the sum of costs and fees, and never below zero.
    const spent = costs.reduce((a, c) => a.plus(c), D(0));
    const raw = await rawBalances('racer');
    const usdt = raw.find((b) => b.asset === 'USDT')!;
    const btc = raw.find((b) => b.asset === 'BTC')!;
    expect(D(usdt.total).isNegative()).toBe(false);
    expect(D(usdt.total).toString()).toBe(D(START_USDT).minus(spent).toString());
    expect(D(usdt.locked).toString()).toBe('0');
    expect(D(btc.total).toString()).toBe(D('0.002').times(ok.length).toString());
    const view = await balancesOf('racer');
    expect(D(view.USDT!.total).toString()).toBe(D(START_USDT).minus(spent).toString());

    // The store agrees: one filled order per 201, one rejected order per 422, fills only for the filled ones.
    const orders = await s.call('GET', '/trading/orders?account_name=racer&status=all&limit=100');
    const byStatus = (st: string) => orders.body.data.filter((o: { status: string }) => o.status === st).length;
    expect(byStatus('filled')).toBe(ok.length);
    expect(byStatus('rejected')).toBe(refused.length);
    expect(orders.body.data).toHaveLength(20);
    const fills = await s.call('GET', '/trading/history?account_name=racer&limit=1000');
    const filledIds = new Set(ok.map((r) => r.body.order.order_id as string));
    expect(new Set((fills.body.data as Fill[]).map((f) => f.order_id))).toEqual(filledIds);
    expect((fills.body.data as Fill[]).reduce((a, f) => a.plus(D(f.amount)), D(0)).toString()).toBe(D('0.002').times(ok.length).toString());
  });

  it('concurrent retries with one client_order_id make exactly one order and one set of fills', async () => {
    const body = { account_name: 'retrier', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.003', client_order_id: 'same-order-retried' };
    const results = await Promise.all(Array.from({ length: 12 }, () => s.call('POST', '/trading/orders', body)));
    for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(201);
    const ids = new Set(results.map((r) => r.body.order.order_id as string));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.body.replayed === false)).toHaveLength(1);
    expect(results.filter((r) => r.body.replayed === true)).toHaveLength(11);
    // Every answer describes the one order and its fills.
    const first = results.find((r) => r.body.replayed === false)!.body;
    for (const r of results) {
      expect(r.body.order).toEqual(first.order);
      expect(r.body.fills).toEqual(first.fills);
    }

    const orders = await s.call('GET', '/trading/orders?account_name=retrier&status=all');
    expect(orders.body.data).toHaveLength(1);
    expect(orders.body.data[0]).toMatchObject({ client_order_id: 'same-order-retried', status: 'filled', filled_amount: 0.003 });
    const fills = (await s.call('GET', '/trading/history?account_name=retrier')).body.data as Fill[];
    expect(fills.length).toBe(first.fills.length);
    expect(fills.reduce((a, f) => a.plus(D(f.amount)), D(0)).toString()).toBe('0.003');
    const cost = fills.reduce((a, f) => a.plus(D(f.amount).times(D(f.price))).plus(D(f.fee)), D(0));
    const usdt = (await rawBalances('retrier')).find((b) => b.asset === 'USDT')!;
    expect(D(usdt.total).toString()).toBe(D(START_USDT).minus(cost).toString());

    // The same id with other parameters is a conflict, also under concurrency, and places nothing.
    const other = await Promise.all(Array.from({ length: 4 }, () => s.call('POST', '/trading/orders', { ...body, amount: '0.004' })));
    for (const r of other) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('CONFLICT');
    }
    expect((await s.call('GET', '/trading/orders?account_name=retrier&status=all')).body.data).toHaveLength(1);
  });
});
