import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/core/db/client.js';
import { orders } from '../../src/core/db/schema/index.js';
import { Decimal } from '../../src/core/decimal.js';
import { basicHeader, httpJson, testEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';
import { crash, ensureBuilt, startServeProcess, type ServeProcess as Running } from './dist.js';

/**
 * Restart safety with the real CLI: orders acknowledged before a SIGKILL are all there afterwards,
 * exactly as acknowledged, nothing runs twice, resting orders keep their funds locked, and an order
 * the crash left in pending_submit is marked failed without touching a balance.
 */

const USER = 'restart-admin';
const PASS = 'restart-password-123';
const AUTH = basicHeader(USER, PASS);
const D = (v: number | string) => new Decimal(String(v));

interface Mode {
  name: 'embedded' | 'server';
  /** Set for server mode: a fresh database from testEnv('postgres'). */
  postgres: boolean;
}

const modes: Mode[] = [{ name: 'embedded', postgres: false }, ...(process.env.DATABASE_URL ? [{ name: 'server' as const, postgres: true }] : [])];


const call = (p: Running, method: string, path: string, body?: unknown) => httpJson(p.url, method, path, body, AUTH);

interface FillOut {
  fill_id: string;
  order_id: string;
  connector_name: string;
  trading_pair: string;
  side: string;
  price: number;
  amount: number;
  fee: number;
}

/** Everything a restart must keep: every order, every fill, the balances and positions. */
async function state(p: Running) {
  const all = await call(p, 'GET', '/trading/orders?status=all&limit=1000');
  const fills = await call(p, 'GET', '/trading/history?limit=1000');
  const bal = await call(p, 'GET', '/accounts/master_account/balances');
  const pos = await call(p, 'GET', '/trading/positions');
  for (const r of [all, fills, bal, pos]) expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(all.body.pagination.has_more).toBe(false);
  expect(fills.body.pagination.has_more).toBe(false);
  return {
    orders: Object.fromEntries((all.body.data as Array<Record<string, unknown>>).map((o) => [o.order_id as string, o])),
    fills: (fills.body.data as FillOut[]).sort((a, b) => a.fill_id.localeCompare(b.fill_id)),
    balances: bal.body.connectors,
    // Marks and unrealized PnL move with the sim clock; the position itself must not.
    positions: (pos.body.data as Array<Record<string, unknown>>).map(({ mark_price: _m, unrealized_pnl: _u, ...rest }) => rest),
  };
}

const STABLE = ['order_id', 'client_order_id', 'status', 'side', 'order_type', 'amount', 'price', 'filled_amount', 'average_fill_price', 'fee_paid', 'leverage', 'position_action'] as const;
const stable = (o: Record<string, unknown>) => Object.fromEntries(STABLE.map((k) => [k, o[k]]));

/** The sim balances as the fills say they must be: the start balances moved by every fill, exactly. */
function spotFromFills(fills: FillOut[]) {
  let usdt = D(10000);
  let btc = D(1);
  for (const f of fills.filter((x) => x.connector_name === 'sim')) {
    expect(f.trading_pair).toBe('BTC-USDT');
    const notional = D(f.amount).times(D(f.price));
    if (f.side === 'buy') {
      usdt = usdt.minus(notional).minus(D(f.fee));
      btc = btc.plus(D(f.amount));
    } else {
      usdt = usdt.plus(notional).minus(D(f.fee));
      btc = btc.minus(D(f.amount));
    }
  }
  return { USDT: usdt.toString(), BTC: btc.toString() };
}

const totals = (balances: Array<{ connector_name: string; balances: Array<{ asset: string; total: number }> }>, connector: string) =>
  Object.fromEntries(balances.find((c) => c.connector_name === connector)!.balances.map((b) => [b.asset, D(b.total).toString()]));

describe.each(modes)('restart safety of the real CLI ($name)', (mode) => {
  let dataDir: string;
  let pgEnv: TestEnv | undefined;
  let env: Record<string, string>;
  let server: Running | undefined;
  let bid: number;
  let ask: number;
  /** Every acknowledged (201) order response, by order_id. */
  const acked = new Map<string, Record<string, unknown>>();
  const bodies = new Map<string, Record<string, unknown>>();
  let before: Awaited<ReturnType<typeof state>>;

  const place = async (body: Record<string, unknown>) => {
    const r = await call(server!, 'POST', '/trading/orders', body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    acked.set(r.body.order.order_id, r.body.order);
    bodies.set(r.body.order.order_id, body);
    return r.body;
  };

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), `td-e2e-restart-${mode.name}-`));
    env = { DATA_DIR: dataDir, API_USERNAME: USER, API_PASSWORD: PASS };
    if (mode.postgres) {
      pgEnv = await testEnv('postgres');
      env.DATABASE_URL = pgEnv.config.databaseUrl!;
    }
    server = await startServeProcess(env);
  }, 120_000);

  afterAll(async () => {
    if (server) await crash(server);
    await pgEnv?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('acknowledges a mix of market fills, resting limits and refusals', async () => {
    const t = await call(server!, 'GET', '/market-data/ticker/BTC-USDT?connector_name=sim');
    expect(t.status).toBe(200);
    ({ bid, ask } = t.body);
    const low = (Math.floor(bid * 50) / 100).toFixed(2);
    const high = (Math.ceil(ask * 150) / 100).toFixed(2);
    const buy = await place({ connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.002', client_order_id: 'r-mkt-1' });
    expect(buy.order.status).toBe('filled');
    expect((await place({ connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'sell', order_type: 'market', amount: '0.001' })).order.status).toBe('filled');
    expect((await place({ connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '0.001', price: low, client_order_id: 'r-rest-1' })).order.status).toBe('open');
    expect((await place({ connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'sell', order_type: 'limit_maker', amount: '0.003', price: high })).order.status).toBe('open');
    expect((await place({ connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'sell', order_type: 'market', amount: '0.01', leverage: 3, client_order_id: 'r-perp-1' })).order.status).toBe('filled');
    expect((await place({ connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '0.005', price: low, leverage: 3, client_order_id: 'r-perp-rest' })).order.status).toBe('open');
    const toCancel = await place({ connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '0.001', price: low, client_order_id: 'r-cancel-1' });
    const canceled = await call(server!, 'DELETE', `/trading/orders/${toCancel.order.order_id}`);
    expect(canceled.status).toBe(200);
    acked.set(toCancel.order.order_id, canceled.body.order);
    // Refused for funds: acknowledged as a 422 and kept as a rejected order.
    const refused = await call(server!, 'POST', '/trading/orders', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '1', price: low, client_order_id: 'r-rej-1' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details.reason).toBe('insufficient_funds');

    before = await state(server!);
    for (const [id, o] of acked) expect(stable(before.orders[id]!), id).toEqual(stable(o));
    expect(Object.values(before.orders).find((o) => o.client_order_id === 'r-rej-1')?.status).toBe('rejected');
    expect(before.fills.length).toBeGreaterThanOrEqual(3);
    expect(totals(before.balances, 'sim')).toEqual(spotFromFills(before.fills));
  });

  it('after SIGKILL and a restart, every acknowledged order is there as acknowledged and nothing ran twice', async () => {
    await crash(server!);
    server = await startServeProcess(env);
    const after = await state(server);
    expect(Object.keys(after.orders).sort()).toEqual(Object.keys(before.orders).sort());
    for (const [id, o] of acked) expect(stable(after.orders[id]!), id).toEqual(stable(o));
    expect(after.fills).toEqual(before.fills);
    expect(after.balances).toEqual(before.balances);
    expect(after.positions).toEqual(before.positions);
    expect(after.positions).toHaveLength(1);
  }, 120_000);

  it('resting orders are still open and still hold their funds', async () => {
    const rest = await call(server!, 'GET', '/trading/orders/r-rest-1');
    expect(rest.body.order.status).toBe('open');
    const active = await call(server!, 'GET', '/trading/orders');
    expect(active.body.data.map((o: { client_order_id: string }) => o.client_order_id).sort()).toEqual(
      Object.values(before.orders)
        .filter((o) => o.status === 'open')
        .map((o) => o.client_order_id as string)
        .sort(),
    );
    const restOrders = Object.values(before.orders).filter((o) => o.status === 'open');
    expect(restOrders).toHaveLength(3);
    const bal = await call(server!, 'GET', '/accounts/master_account/balances');
    const sim = Object.fromEntries(bal.body.connectors.find((c: { connector_name: string }) => c.connector_name === 'sim').balances.map((b: { asset: string; locked: number }) => [b.asset, D(b.locked).toString()]));
    // The limit buy holds price × amount plus the 0.08% maker fee; the limit_maker sell holds its BTC.
    const buy = restOrders.find((o) => o.client_order_id === 'r-rest-1')!;
    const cost = D(buy.price as number).times(D(buy.amount as number));
    expect(sim.USDT).toBe(cost.plus(cost.times('0.0008')).toString());
    expect(sim.BTC).toBe('0.003');
    const perp = bal.body.connectors.find((c: { connector_name: string }) => c.connector_name === 'sim_perpetual').balances[0];
    const pr = restOrders.find((o) => o.client_order_id === 'r-perp-rest')!;
    // A perpetual limit holds its margin at 3x plus the maker fee (0.02%).
    const notional = D(pr.price as number).times(D(pr.amount as number));
    // (The REST face answers JSON numbers, so the exact reservation is compared at double precision.)
    expect(perp.locked).toBe(notional.div(3).toDecimalPlaces(18).plus(notional.times('0.0002')).toNumber());
    // Canceling after the restart releases exactly that.
    const c = await call(server!, 'DELETE', '/trading/orders/r-rest-1');
    expect(c.status).toBe(200);
    const bal2 = await call(server!, 'GET', '/accounts/master_account/balances?connector_name=sim');
    expect(bal2.body.connectors[0].balances.find((b: { asset: string }) => b.asset === 'USDT').locked).toBe(0);
    before = await state(server!);
  });

  it('retrying an acknowledged client_order_id after the restart replays it: no new order, no new fill', async () => {
    for (const [id, body] of bodies) {
      if (!body.client_order_id) continue;
      const r = await call(server!, 'POST', '/trading/orders', body);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.replayed).toBe(true);
      expect(r.body.order.order_id).toBe(id);
    }
    // A retry of the refused order replays the refusal's record rather than trying again.
    const after = await state(server!);
    expect(after.fills).toEqual(before.fills);
    expect(after.balances).toEqual(before.balances);
    expect(Object.keys(after.orders).sort()).toEqual(Object.keys(before.orders).sort());
  });

  it('an order the crash left in pending_submit is marked failed at the next start and changes no balance', async () => {
    await crash(server!);
    server = undefined;
    const database = await openDatabase(mode.postgres ? { url: env.DATABASE_URL } : { dataDir: join(dataDir, 'pg') });
    try {
      await database.db.insert(orders).values({
        id: 'ord_crashpending0001',
        clientOrderId: 'r-pending-1',
        accountName: 'master_account',
        connectorName: 'sim',
        tradingPair: 'BTC-USDT',
        side: 'buy',
        orderType: 'market',
        amount: '0.5',
        status: 'pending_submit',
        requestHash: 'written-by-the-restart-test',
      });
    } finally {
      await database.close();
    }
    server = await startServeProcess(env);
    const o = await call(server, 'GET', '/trading/orders/ord_crashpending0001');
    expect(o.status).toBe(200);
    expect(o.body.order).toMatchObject({ status: 'failed', filled_amount: 0, fee_paid: 0, client_order_id: 'r-pending-1' });
    expect(o.body.order.error_message).toMatch(/stopped before this order was executed/);
    expect(o.body.fills).toEqual([]);
    const after = await state(server);
    expect(after.fills).toEqual(before.fills);
    expect(after.balances).toEqual(before.balances);
    expect(Object.keys(after.orders).sort()).toEqual([...Object.keys(before.orders), 'ord_crashpending0001'].sort());
    const active = await call(server, 'GET', '/trading/orders?status=pending_submit');
    expect(active.body.data).toEqual([]);
  }, 120_000);

  it('a crash in the middle of a burst of orders leaves every acknowledged one intact and none half-done', async () => {
    const base = await state(server!);
    const burst = Array.from({ length: 12 }, (_, i) => ({ connector_name: 'sim', trading_pair: 'BTC-USDT', side: i % 3 === 2 ? 'sell' : 'buy', order_type: 'market', amount: '0.0005', client_order_id: `r-burst-${i}` }));
    const answers = new Map<string, Record<string, unknown>>();
    const inflight = burst.map((body) =>
      call(server!, 'POST', '/trading/orders', body).then(
        (r) => {
          if (r.status === 201) answers.set(body.client_order_id, r.body.order);
        },
        () => undefined, // the connection died with the process: not acknowledged
      ),
    );
    // Let a few through (the account's orders run one at a time), then pull the plug with the rest in flight.
    await waitFor('three acknowledged orders of the burst', () => answers.size >= 3, { timeoutMs: 20_000, everyMs: 2 });
    await crash(server!);
    await Promise.all(inflight);
    server = await startServeProcess(env);
    const after = await state(server);
    // Some were acknowledged and some were cut off; otherwise the crash missed the burst.
    expect(answers.size).toBeGreaterThanOrEqual(3);
    expect(answers.size).toBeLessThan(burst.length);
    const byClient = new Map(Object.values(after.orders).map((o) => [o.client_order_id as string, o]));
    for (const [cid, o] of answers) expect(stable(byClient.get(cid)!), cid).toEqual(stable(o));
    for (const body of burst) {
      const o = byClient.get(body.client_order_id);
      if (!o) continue; // never reached the database
      // All or nothing: fully executed, or failed with no fill.
      expect(['filled', 'failed'], `${body.client_order_id} is ${o.status}`).toContain(o.status);
      const mine = after.fills.filter((f) => f.order_id === o.order_id);
      if (o.status === 'failed') expect(mine).toEqual([]);
      else expect(mine.reduce((s, f) => s.plus(D(f.amount)), D(0)).toString()).toBe('0.0005');
    }
    // The balances are exactly the start balances moved by every fill: nothing applied twice or half.
    expect(totals(after.balances, 'sim')).toEqual(spotFromFills(after.fills));
    expect(after.fills.length - base.fills.length).toBe([...byClient.values()].filter((o) => String(o.client_order_id).startsWith('r-burst-') && o.status === 'filled').length);
    // Retrying the whole burst: what exists replays, what never arrived is placed now, once.
    for (const body of burst) {
      const existed = byClient.get(body.client_order_id);
      const r = await call(server, 'POST', '/trading/orders', body);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.replayed).toBe(Boolean(existed));
      if (existed) expect(r.body.order.order_id).toBe(existed.order_id);
    }
    const final = await state(server);
    expect(totals(final.balances, 'sim')).toEqual(spotFromFills(final.fills));
  }, 180_000);
});
