import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/mcp-call.js';
import { basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { ManualClock } from '../../src/core/clock.js';

/**
 * A resting order meets the account's limits when it fills, not only when it was placed: the position,
 * the policy and the kill switches can all change while it waits on the book.
 */
const TRADER = basicHeader('fay', 'trader-password-1');
const PINNED = Date.UTC(2026, 6, 1, 12, 0, 0, 0);

describe.each(drivers())('guardrails at fill time on %s', (driver) => {
  let s: TestServer;
  const clock = new ManualClock(PINNED);

  const perp = { connector_name: 'sim_perpetual' };
  const order = (account: string, extra: Record<string, unknown> = {}) => ({ account_name: account, ...perp, trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.01', ...extra });
  const place = (body: Record<string, unknown>) => s.call('POST', '/trading/orders', body, TRADER);
  const policy = async (account: string, p: Record<string, unknown>) => {
    const r = await s.call('PUT', `/accounts/${account}/policy`, p);
    expect(r.status, r.text).toBe(200);
  };
  const rows = async (q: ReturnType<typeof sql>) => ((await s.services.db.execute(q)) as unknown as { rows: any[] }).rows;
  const position = async (account: string) => Number((await rows(sql`select amount from positions where account_name = ${account} and connector_name = 'sim_perpetual' and trading_pair = 'BTC-USDT'`))[0]?.amount ?? 0);
  const spotBtc = async (account: string) => Number((await rows(sql`select total from paper_balances where account_name = ${account} and connector_name = 'sim' and asset = 'BTC'`))[0]?.total ?? 0);
  const openOrders = async (account: string) => (await rows(sql`select count(*)::int as n from orders where account_name = ${account} and status in ('open', 'partially_filled')`))[0].n as number;
  const orderRow = async (id: string) => (await s.call('GET', `/trading/orders/${id}`, undefined, TRADER)).body.order;
  const book = async (connector = 'sim_perpetual') => {
    const ob = await (await s.services.connectors.get(connector)).fetchOrderBook('BTC-USDT', 1);
    return { bid: ob.bids[0]!.price, ask: ob.asks[0]!.price };
  };
  /** Moves the clock (the sim price is a deterministic random walk) until `pred` holds for the book. */
  async function advanceUntil(pred: (b: { bid: number; ask: number }) => boolean, connector = 'sim_perpetual'): Promise<void> {
    for (let i = 0; i < 20_000; i++) {
      clock.advance(30_000);
      if (pred(await book(connector))) return;
    }
    throw new Error('the sim price never got there');
  }
  /** Runs the matcher until the account has no resting order left; fails the test after 15 s. */
  async function matchUntilSettled(account: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await openOrders(account)) > 0) {
      if (Date.now() > deadline) throw new Error(`${account} still has resting orders after 15 s of matching`);
      await s.services.trading.matchOnce();
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async function account(name: string, p: Record<string, unknown> = {}): Promise<void> {
    const made = await s.call('POST', '/accounts', {
      account_name: name,
      connectors: [
        { connector_name: 'sim', paper_balances: { USDT: '1000000' } },
        { connector_name: 'sim_perpetual', paper_balances: { USDT: '1000000' } },
      ],
    });
    expect(made.status, made.text).toBe(201);
    if (Object.keys(p).length) await policy(name, p);
  }

  beforeAll(async () => {
    s = await testServer(driver, {}, { clock });
    expect((await s.call('POST', '/users', { username: 'fay', password: 'trader-password-1', role: 'trader' })).status).toBe(201);
  });
  afterAll(async () => {
    await s?.stop();
  });
  beforeEach(() => {
    clock.set(PINNED);
  });

  it('the reported exploit: open near the cap, rest an opposite order twice the size, close; the position never passes the cap', async () => {
    const cap = 5000;
    await account('exploit', { max_position_notional: String(cap) });
    const { ask } = await book();
    const size = Number((4500 / ask).toFixed(3));
    expect(codeOf(await place(order('exploit', { amount: String(size) })))).toBe('ok');
    // A sell of twice the position, resting above the market: at this moment it only "reduces" the long.
    const price = Math.round(ask * 1.003);
    const resting = await place(order('exploit', { side: 'sell', order_type: 'limit', price: String(price), amount: (size * 2).toFixed(3) }));
    // The position is closed by other means; the resting sell is now a fresh short of twice the size.
    const closed = await s.call('POST', '/trading/close-position', { account_name: 'exploit', ...perp, trading_pair: 'BTC-USDT' }, TRADER);
    expect(closed.status, closed.text).toBe(201);
    expect(await position('exploit')).toBe(0);
    await advanceUntil((b) => b.bid >= price);
    await matchUntilSettled('exploit');
    // Refused when placed (its worst case passes the cap) or cut at the fill: either way within the cap.
    expect(Math.abs(await position('exploit')) * price).toBeLessThanOrEqual(cap);
    expect(codeOf(resting)).toBe('RISK_LIMIT_EXCEEDED');
    expect(resting.body.error.details.check).toBe('max_position_notional');
  });

  it('the exploit with the order rested before the cap existed: the fill stops at the cap', async () => {
    await account('exploit_late');
    const { ask } = await book();
    const size = Number((4500 / ask).toFixed(3));
    expect(codeOf(await place(order('exploit_late', { amount: String(size) })))).toBe('ok');
    const price = Math.round(ask * 1.003);
    const resting = await place(order('exploit_late', { side: 'sell', order_type: 'limit', price: String(price), amount: (size * 2).toFixed(3) }));
    expect(resting.status, resting.text).toBe(201);
    await policy('exploit_late', { max_position_notional: '5000' });
    expect((await s.call('POST', '/trading/close-position', { account_name: 'exploit_late', ...perp, trading_pair: 'BTC-USDT' }, TRADER)).status).toBe(201);
    await advanceUntil((b) => b.bid >= price);
    await matchUntilSettled('exploit_late');
    const o = await orderRow(resting.body.order.order_id);
    expect(o.status).toBe('canceled');
    expect(o.error_message).toContain('max_position_notional guard');
    const held = await position('exploit_late');
    expect(held).toBeLessThan(0);
    expect(Math.abs(held) * price).toBeLessThanOrEqual(5000);
  });

  it('a resting order placed under the cap fills only what fits after the cap is lowered; the rest is canceled, naming the guard', async () => {
    await account('cap_lowered', { max_position_notional: '5000' });
    const { bid } = await book();
    const amount = (3000 / bid).toFixed(3);
    const placed = await place(order('cap_lowered', { order_type: 'limit', price: String(bid), amount }));
    expect(placed.status, placed.text).toBe(201);
    expect(placed.body.order.status).toBe('open');
    await policy('cap_lowered', { max_position_notional: '1000' });
    await advanceUntil((b) => b.ask <= bid);
    await matchUntilSettled('cap_lowered');
    const o = await orderRow(placed.body.order.order_id);
    expect(o.status).toBe('canceled');
    expect(o.error_message).toContain('max_position_notional');
    expect(o.filled_amount).toBeGreaterThan(0);
    expect(o.filled_amount * bid).toBeLessThanOrEqual(1000);
    expect((await position('cap_lowered')) * bid).toBeLessThanOrEqual(1000);
    // Nothing stays held back for the canceled remainder.
    const usdt = (await rows(sql`select locked from paper_balances where account_name = 'cap_lowered' and connector_name = 'sim_perpetual' and asset = 'USDT'`))[0];
    expect(Number(usdt.locked)).toBe(0);
  });

  it('the same holds for a resting spot buy: the holding stays within the lowered cap', async () => {
    await account('spot_cap', { max_position_notional: '5000' });
    const { bid } = await book('sim');
    const placed = await place(order('spot_cap', { connector_name: 'sim', order_type: 'limit', price: String(bid), amount: (3000 / bid).toFixed(5) }));
    expect(placed.status, placed.text).toBe(201);
    await policy('spot_cap', { max_position_notional: '1000' });
    await advanceUntil((b) => b.ask <= bid, 'sim');
    await matchUntilSettled('spot_cap');
    const o = await orderRow(placed.body.order.order_id);
    expect(o.status).toBe('canceled');
    expect(o.error_message).toContain('max_position_notional');
    expect((await spotBtc('spot_cap')) * bid).toBeLessThanOrEqual(1000);
  });

  const changes: Array<[string, string, (account: string) => Promise<void>]> = [
    ['a kill switch set without canceling open orders', 'kill_switch', async (a) => expect(codeOf(await s.call('POST', '/safety/kill-switch', { account_name: a, reason: 'halt' }, TRADER))).toBe('ok')],
    ['trading disabled', 'mode', (a) => policy(a, { mode: 'disabled' })],
    ['the pair denied', 'pairs', (a) => policy(a, { denied_pairs: ['BTC-*'] })],
    ['a leverage cap below the order\'s leverage', 'max_leverage', (a) => policy(a, { max_leverage: 2 })],
  ];
  it.each(changes)('a resting order does not fill after %s: it is canceled by the %s guard', async (_what, guard, change) => {
    const name = `after_${guard}`;
    await account(name);
    const { bid } = await book();
    const placed = await place(order(name, { order_type: 'limit', price: String(bid), amount: '0.01', leverage: 5 }));
    expect(placed.status, placed.text).toBe(201);
    expect(placed.body.order.status).toBe('open');
    await change(name);
    await advanceUntil((b) => b.ask <= bid);
    await matchUntilSettled(name);
    const o = await orderRow(placed.body.order.order_id);
    expect(o.status).toBe('canceled');
    expect(o.filled_amount).toBe(0);
    expect(o.error_message).toContain(`${guard} guard`);
    expect(await position(name)).toBe(0);
  });

  it('a resting order that still fits fills in full', async () => {
    await account('fits', { max_position_notional: '5000', max_leverage: 10 });
    const { bid } = await book();
    const placed = await place(order('fits', { order_type: 'limit', price: String(bid), amount: '0.01', leverage: 5 }));
    expect(placed.status, placed.text).toBe(201);
    await advanceUntil((b) => b.ask <= bid);
    await matchUntilSettled('fits');
    const o = await orderRow(placed.body.order.order_id);
    expect(o.status).toBe('filled');
    expect(o.error_message).toBeNull();
    expect(await position('fits')).toBe(0.01);
  });
});
