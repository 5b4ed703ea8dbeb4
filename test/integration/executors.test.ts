import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/app/server.js';
import type { ServiceOptions } from '../../src/app/services.js';
import { ManualClock } from '../../src/core/clock.js';
import { Decimal } from '../../src/core/decimal.js';
import { createLogger } from '../../src/core/logger.js';
import { basicHeader, drivers, httpJson, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * The executors service on the paper order path, on a pinned sim clock: the test moves the clock (and
 * so the sim price) and runs the service's cycles itself, so every step is known in advance.
 */

const PINNED = Date.UTC(2026, 5, 1, 12, 0, 0, 0);
const STEP_MS = 15_000;
const TRADER = basicHeader('tess', 'tess-password-123');
const D = (v: string | number) => new Decimal(String(v));

const position = (extra: Record<string, unknown> = {}) => ({ type: 'position', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.01', ...extra });

describe.each(drivers())('executors on the paper order path (%s)', (driver) => {
  let s: TestServer;
  const clock = new ManualClock(PINNED);
  const options: ServiceOptions = { clock, executors: { intervalMs: null } };

  const rows = async <T = any>(q: ReturnType<typeof sql>): Promise<T[]> => ((await s.services.db.execute(q)) as unknown as { rows: T[] }).rows;
  /** The best bid of sim BTC-USDT at `t`, as the order book serves it. */
  const bidAt = (t: number) => {
    const sim = s.services.connectors.sim;
    return D(sim.orderBook(sim.market('spot', 'BTC-USDT'), 1, t).bids[0]!.price);
  };
  const create = async (account: string, config: Record<string, unknown>, auth = TRADER) => {
    const r = await s.call('POST', '/executors', { account_name: account, executor_config: config }, auth);
    expect(r.status, r.text).toBe(201);
    return r.body.executor as Record<string, any>;
  };
  const get = async (id: string) => {
    const r = await s.call('GET', `/executors/${id}`);
    expect(r.status, r.text).toBe(200);
    return r.body as { executor: Record<string, any>; report: Record<string, any>; orders: Array<Record<string, any>> };
  };
  const account = async (name: string, usdt: string) => {
    const r = await s.call('POST', '/accounts', { account_name: name, connectors: [{ connector_name: 'sim', paper_balances: { USDT: usdt, BTC: '0' } }] });
    expect(r.status, r.text).toBe(201);
  };
  const btc = async (name: string) => D((await rows<{ total: string }>(sql`select total::text from paper_balances where account_name = ${name} and connector_name = 'sim' and asset = 'BTC'`))[0]?.total ?? '0').toString();

  beforeAll(async () => {
    s = await testServer(driver, {}, options);
    const u = await s.call('POST', '/users', { username: 'tess', password: 'tess-password-123', role: 'trader' });
    expect(u.status, u.text).toBe(201);
    await account('desk', '100000');
    await account('keep', '100000');
    await account('poor', '5');
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('a stop loss or take profit fires at the first step the price crosses it, and closes the position through journaled orders', async () => {
    clock.set(PINNED);
    const created = await create('desk', position({ triple_barrier: { stop_loss: 0.004, take_profit: 0.004 } }));
    expect(created).toMatchObject({ status: 'active', executor_type: 'position', account_name: 'desk', side: 'buy', created_by: 'tess' });
    const opened = await get(created.executor_id);
    expect(opened.orders).toHaveLength(1);
    expect(opened.orders[0]).toMatchObject({ side: 'buy', order_type: 'market', status: 'filled', filled_amount: 0.01 });
    const entry = D((await rows<{ p: string }>(sql`select report->>'entry_price' as p from executors where id = ${created.executor_id}`))[0]!.p);
    expect(entry.toNumber()).toBe(opened.orders[0]!.average_fill_price);

    // Where the sim path first takes the long's PnL (valued at the bid) past ±0.4%, step by step.
    let k = 0;
    let expected: 'STOP_LOSS' | 'TAKE_PROFIT' | null = null;
    for (let i = 1; i <= 5760 && !expected; i++) {
      const pnl = bidAt(PINNED + i * STEP_MS).minus(entry).div(entry);
      if (pnl.lte(-0.004)) expected = 'STOP_LOSS';
      else if (pnl.gte(0.004)) expected = 'TAKE_PROFIT';
      k = i;
    }
    expect(expected, 'the sim price moves 0.4% within a day').not.toBeNull();

    clock.set(PINNED + (k - 1) * STEP_MS);
    await s.services.executors.runOnce();
    expect((await get(created.executor_id)).executor.status).toBe('active');

    clock.set(PINNED + k * STEP_MS);
    await s.services.executors.runOnce();
    const closed = await get(created.executor_id);
    expect(closed.executor).toMatchObject({ status: 'terminated', close_type: expected, is_active: false });
    expect(closed.orders.map((o) => [o.side, o.order_type, o.status])).toEqual([
      ['buy', 'market', 'filled'],
      ['sell', 'market', 'filled'],
    ]);
    expect(closed.orders[1]!.filled_amount).toBe(0.01);
    expect(await btc('desk')).toBe('0');

    // Both orders ran through the command pipeline as the trader who created the executor.
    const journal = await rows(sql`select principal, command, outcome, channel from audit_events where request_id like ${`executor:${created.executor_id}:%`} order by id`);
    expect(journal).toEqual([
      { principal: 'tess', command: 'trading_place_order', outcome: 'OK', channel: 'rest' },
      { principal: 'tess', command: 'trading_place_order', outcome: 'OK', channel: 'rest' },
    ]);

    // The report's PnL is the fills' own: sold minus bought minus fees, to the last digit.
    const fills = await rows<{ side: string; price: string; amount: string; fee: string }>(
      sql`select f.side, f.price::text, f.amount::text, f.fee::text from fills f join orders o on o.id = f.order_id where o.account_name = 'desk' and o.client_order_id like 'x-%'`,
    );
    const pnl = fills.reduce((sum, f) => sum.plus(D(f.price).times(f.amount).times(f.side === 'sell' ? 1 : -1)).minus(f.fee), D(0));
    const report = (await rows<{ report: Record<string, string> }>(sql`select report from executors where id = ${created.executor_id}`))[0]!.report;
    expect(D(report.net_pnl_quote!).toString()).toBe(pnl.toString());
    expect(report.position_amount).toBe('0');
    expect(closed.executor.closed_at).toBe(new Date(PINNED + k * STEP_MS).toISOString());
  });

  it('a stop keeps the position when asked (POSITION_HOLD) and closes it otherwise (EARLY_STOP)', async () => {
    clock.set(PINNED);
    const kept = await create('keep', position({ amount: '0.002', triple_barrier: { stop_loss: 0.5 } }));
    const stopKept = await s.call('POST', `/executors/${kept.executor_id}/stop`, { keep_position: true }, TRADER);
    expect(stopKept.status, stopKept.text).toBe(200);
    expect(stopKept.body).toMatchObject({ keep_position: true, executor: { status: 'terminated', close_type: 'POSITION_HOLD', stop_requested: true } });
    expect((await get(kept.executor_id)).orders.map((o) => o.side)).toEqual(['buy']);
    expect(await btc('keep')).toBe('0.002');

    const closed = await create('keep', position({ amount: '0.003', triple_barrier: { stop_loss: 0.5 } }));
    const stopClosed = await s.call('POST', `/executors/${closed.executor_id}/stop`, {}, TRADER);
    expect(stopClosed.body).toMatchObject({ keep_position: false, executor: { status: 'terminated', close_type: 'EARLY_STOP' } });
    expect((await get(closed.executor_id)).orders.map((o) => [o.side, o.status])).toEqual([
      ['buy', 'filled'],
      ['sell', 'filled'],
    ]);
    // The kept 0.002 is still there; the closed executor's 0.003 is gone.
    expect(await btc('keep')).toBe('0.002');

    // Stopping an ended executor changes nothing.
    const again = await s.call('POST', `/executors/${kept.executor_id}/stop`, {}, TRADER);
    expect(again.body).toMatchObject({ keep_position: true, executor: { close_type: 'POSITION_HOLD' } });
  });

  it('an opening order refused for funds ends the executor as INSUFFICIENT_BALANCE', async () => {
    clock.set(PINNED);
    const e = await create('poor', position());
    expect(e).toMatchObject({ status: 'terminated', close_type: 'INSUFFICIENT_BALANCE' });
    const detail = await get(e.executor_id);
    expect(detail.orders.map((o) => o.status)).toEqual(['rejected']);
    expect(detail.report.position_amount).toBe(0);
  });

  it('lists, filters and sums executors by account, within the caller\'s accounts', async () => {
    const all = await s.call('GET', '/executors?limit=2');
    expect(all.status).toBe(200);
    expect(all.body.data).toHaveLength(2);
    expect(all.body.pagination.has_more).toBe(true);
    const next = await s.call('GET', `/executors?limit=100&cursor=${all.body.pagination.next_cursor}`);
    expect(next.body.data.length).toBe(2);
    expect(new Set([...all.body.data, ...next.body.data].map((e: { executor_id: string }) => e.executor_id)).size).toBe(4);
    const held = await s.call('GET', '/executors?account_name=keep&status=terminated');
    expect(held.body.data.map((e: { close_type: string }) => e.close_type).sort()).toEqual(['EARLY_STOP', 'POSITION_HOLD']);

    const summary = await s.call('GET', '/executors/summary');
    expect(summary.status).toBe(200);
    expect(summary.body.accounts.map((a: { account_name: string }) => a.account_name)).toEqual(['desk', 'keep', 'poor']);
    const stored = await rows<{ account_name: string; net: string }>(sql`select account_name, sum((report->>'net_pnl_quote')::numeric)::text as net from executors group by account_name order by account_name`);
    for (const a of summary.body.accounts) expect(a.net_pnl_quote).toBe(Number(stored.find((r) => r.account_name === a.account_name)!.net));
    expect(summary.body.total.total_executors).toBe(4);
    expect(summary.body.total.active_executors).toBe(0);

    // A trader limited to one account sees only its executors, and another account's reads as missing.
    const lim = await s.call('POST', '/users', { username: 'lim', password: 'lim-password-1234', role: 'trader', accounts: ['poor'] });
    expect(lim.status, lim.text).toBe(201);
    const LIM = basicHeader('lim', 'lim-password-1234');
    const mine = await s.call('GET', '/executors', undefined, LIM);
    expect(mine.body.data.map((e: { account_name: string }) => e.account_name)).toEqual(['poor']);
    const other = held.body.data[0].executor_id as string;
    expect((await s.call('GET', `/executors/${other}`, undefined, LIM)).status).toBe(404);
    expect((await s.call('POST', `/executors/${other}/stop`, {}, LIM)).status).toBe(404);
    expect((await s.call('POST', '/executors', { account_name: 'desk', executor_config: position() }, LIM)).status).toBe(404);
  });

  it('a cancel refused for good is asked again, and after three refusals the stopping executor ends FAILED with the reason', async () => {
    clock.set(PINNED);
    const u = await s.call('POST', '/users', { username: 'rita', password: 'rita-password-123', role: 'trader' });
    expect(u.status, u.text).toBe(201);
    const rita = basicHeader('rita', 'rita-password-123');
    await account('stuck', '100000');
    const e = await create('stuck', position({ amount: '0.01', entry_price: '1000', triple_barrier: { open_order_type: 'limit' } }), rita);
    expect((await get(e.executor_id)).orders.map((o) => [o.order_type, o.status])).toEqual([['limit', 'open']]);
    // Its creator is removed: every order action it asks for is refused from now on.
    expect((await s.call('DELETE', '/users/rita')).status).toBe(200);
    const stop = await s.call('POST', `/executors/${e.executor_id}/stop`, {});
    expect(stop.body.executor).toMatchObject({ status: 'shutting_down' });
    for (let i = 0; i < 3; i++) await s.services.executors.runOnce();
    const ended = await get(e.executor_id);
    expect(ended.executor).toMatchObject({ status: 'terminated', close_type: 'FAILED', error_count: 3 });
    expect(ended.executor.last_error).toMatch(/rita, who created executor .* is no longer a user/);
    // The order is left working (nobody may cancel it as rita), and the executor says so rather than waiting forever.
    expect(ended.orders.map((o) => o.status)).toEqual(['open']);
    const journal = await rows(sql`select outcome from audit_events where request_id like ${`executor:${e.executor_id}:cancel:%`} order by id`);
    expect(journal).toEqual([]);
  });

  it('a leveraged short on a perpetual opens and, stopped, closes with a reduce-only order', async () => {
    clock.set(PINNED);
    const r = await s.call('POST', '/accounts', { account_name: 'perp', connectors: [{ connector_name: 'sim_perpetual', paper_balances: { USDT: '10000' } }] });
    expect(r.status, r.text).toBe(201);
    const e = await create('perp', { type: 'position', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'sell', amount: '0.02', leverage: 3, triple_barrier: { stop_loss: 0.5 } });
    expect(e.status).toBe('active');
    const pos = async () => (await rows<{ amount: string; leverage: number }>(sql`select amount::text, leverage from positions where account_name = 'perp'`))[0];
    expect(D((await pos())!.amount).toString()).toBe('-0.02');
    expect((await pos())!.leverage).toBe(3);
    const stopped = await s.call('POST', `/executors/${e.executor_id}/stop`, {}, TRADER);
    expect(stopped.body.executor).toMatchObject({ status: 'terminated', close_type: 'EARLY_STOP' });
    const orders = (await get(e.executor_id)).orders;
    expect(orders.map((o) => [o.side, o.position_action, o.leverage, o.status])).toEqual([
      ['sell', 'open', 3, 'filled'],
      ['buy', 'close', 3, 'filled'],
    ]);
    expect(D((await pos())?.amount ?? '0').isZero()).toBe(true);
  });

  it("a grid on a perpetual is laid to the market's rules: each level a whole number of 0.001 BTC steps, worth the 5 USDT minimum", async () => {
    clock.set(PINNED);
    const r = await s.call('POST', '/accounts', { account_name: 'perp_grid', connectors: [{ connector_name: 'sim_perpetual', paper_balances: { USDT: '10000' } }] });
    expect(r.status, r.text).toBe(201);
    const bid = bidAt(PINNED);
    // 1000 USDT from 3% to 0.5% below the price, levels 0.1% apart: 26 levels of 38 USDT by the config alone, 0.0006 BTC each.
    const e = await create('perp_grid', {
      type: 'grid',
      connector_name: 'sim_perpetual',
      trading_pair: 'BTC-USDT',
      side: 'buy',
      leverage: 5,
      start_price: bid.times(0.97).toFixed(1),
      end_price: bid.times(0.995).toFixed(1),
      total_amount_quote: '1000',
      min_spread_between_orders: 0.001,
      max_open_orders: 3,
    });
    const got = await get(e.executor_id);
    expect(got.executor.status).toBe('active');
    expect(got.orders.map((o) => [o.side, o.order_type, o.status])).toEqual(Array(3).fill(['buy', 'limit_maker', 'open']));
    const levels = got.report.custom_info.levels as string[];
    const amounts = got.report.custom_info.level_amounts as string[];
    // About 65 USDT buys one step: 1000 funds 15 levels.
    expect(levels.length).toBeGreaterThan(1);
    expect(levels.length).toBeLessThan(26);
    amounts.forEach((a, i) => {
      expect(D(a).mod('0.001').isZero(), a).toBe(true);
      expect(D(a).times(levels[i]!).gte(5)).toBe(true);
    });
    for (const o of got.orders) expect(D(String(o.amount)).mod('0.001').isZero()).toBe(true);
    // A budget that cannot fund one level (0.001 BTC is about 60 USDT) is refused before anything starts.
    const before = (await rows(sql`select id from executors where account_name = 'perp_grid'`)).length;
    const small = await s.call('POST', '/executors', { account_name: 'perp_grid', executor_config: { type: 'grid', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'buy', start_price: bid.times(0.97).toFixed(1), end_price: bid.times(0.995).toFixed(1), total_amount_quote: '40' } }, TRADER);
    expect(small.status, small.text).toBe(400);
    expect(small.body.error.details.issues[0].path).toBe('executor_config.total_amount_quote');
    expect(small.body.error.message).toContain('cannot fund one grid level');
    expect(small.body.error.hint).toMatch(/^Raise total_amount_quote to [\d.]+ or more .* GET \/connectors\/sim_perpetual\/trading-rules shows/);
    expect(await rows(sql`select id from executors where account_name = 'perp_grid'`)).toHaveLength(before);
    // A pair the connector does not list: the field, and where its pairs are.
    const unlisted = await s.call('POST', '/executors', { account_name: 'perp_grid', executor_config: { type: 'grid', connector_name: 'sim_perpetual', trading_pair: 'NOPE-USDT', side: 'buy', start_price: '1', end_price: '2', total_amount_quote: '1000' } }, TRADER);
    expect(unlisted.status, unlisted.text).toBe(400);
    expect(unlisted.body.error.details.issues[0]).toEqual({ path: 'executor_config.trading_pair', message: 'sim_perpetual does not list NOPE-USDT' });
    expect(unlisted.body.error.hint).toBe('GET /connectors/sim_perpetual/markets lists its pairs.');
    expect(await rows(sql`select id from executors where account_name = 'perp_grid'`)).toHaveLength(before);

    const stopped = await s.call('POST', `/executors/${e.executor_id}/stop`, {}, TRADER);
    expect(stopped.body.executor).toMatchObject({ close_type: 'EARLY_STOP' });
    // Its resting orders are cancelled; the grid ends once the cancels are confirmed.
    await s.services.executors.runOnce();
    const ended = await get(e.executor_id);
    expect(ended.executor.status).toBe('terminated');
    expect(ended.orders.map((o) => o.status)).toEqual(Array(3).fill('canceled'));
  });

  it('a TWAP sends one market slice per interval as the clock reaches it, and completes', async () => {
    clock.set(PINNED);
    const e = await create('desk', { type: 'twap', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', total_amount_quote: '300', total_duration: 60, order_interval: 20 });
    expect((await get(e.executor_id)).orders).toHaveLength(1);
    clock.set(PINNED + 19_000);
    await s.services.executors.runOnce();
    expect((await get(e.executor_id)).orders).toHaveLength(1);
    clock.set(PINNED + 20_000);
    await s.services.executors.runOnce();
    expect((await get(e.executor_id)).orders).toHaveLength(2);
    clock.set(PINNED + 40_000);
    await s.services.executors.runOnce();
    const done = await get(e.executor_id);
    expect(done.orders.map((o) => [o.side, o.order_type, o.status])).toEqual(Array(3).fill(['buy', 'market', 'filled']));
    expect(done.executor).toMatchObject({ status: 'terminated', close_type: 'COMPLETED' });
    // Each slice bought about 100 USDT of BTC (rounded down to the amount step).
    for (const o of done.orders) expect(o.filled_amount * o.average_fill_price).toBeGreaterThan(99);
    expect(done.report.filled_amount_quote).toBeGreaterThan(297);
    expect((done as unknown as { orders_total: number }).orders_total).toBe(3);
    // Past the listing's limit, the newest orders are listed (oldest first) and the total still counts all.
    const row = (await s.services.executors.store.get(e.executor_id))!;
    const latest = await s.services.executors.store.orders(row, 2);
    expect(latest.total).toBe(3);
    expect(latest.rows.map((o) => o.clientOrderId)).toEqual(done.orders.slice(1).map((o) => o.client_order_id));
  });

  it('refuses the executor id "summary", which GET /executors/summary would shadow', async () => {
    const r = await s.call('POST', '/executors', { account_name: 'desk', executor_config: position({ id: 'summary' }) }, TRADER);
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['executor_config.id']);
    expect((await s.call('GET', '/executors?account_name=desk&limit=100')).body.data.map((x: { executor_id: string }) => x.executor_id)).not.toContain('summary');
  });

  it('an executor order that would need a person\'s approval is refused at once, and parks no approval nothing would redeem', async () => {
    clock.set(PINNED);
    await account('humane', '10000');
    expect((await s.call('PUT', '/accounts/humane/policy', { confirmation: 'human', confirm_above_notional: '50' })).status).toBe(200);
    const e = await create('humane', position());
    expect(e).toMatchObject({ status: 'terminated', close_type: 'FAILED' });
    expect(e.last_error).toMatch(/an executor's orders cannot wait for one/);
    expect(await rows(sql`select id from approvals where account_name = 'humane'`)).toEqual([]);
  });

  it('a TWAP whose equal slices come faster than the duplicate window still sends each one; a caller repeating an order is still refused', async () => {
    clock.set(PINNED);
    await account('twap_dup', '10000');
    expect((await s.call('PUT', '/accounts/twap_dup/policy', { duplicate_window_seconds: 300 })).status).toBe(200);
    const e = await create('twap_dup', { type: 'twap', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', total_amount_quote: '300', total_duration: 60, order_interval: 20 });
    for (const t of [20_000, 40_000]) {
      clock.set(PINNED + t);
      await s.services.executors.runOnce();
    }
    const done = await get(e.executor_id);
    expect(done.executor).toMatchObject({ status: 'terminated', close_type: 'COMPLETED' });
    expect(done.orders.map((o) => o.status)).toEqual(Array(3).fill('filled'));
    // The premise: at least two slices were the same order, which the window would have refused from a caller.
    expect(new Set(done.orders.map((o) => String(o.amount))).size).toBeLessThan(3);
    const order = { account_name: 'twap_dup', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' };
    expect((await s.call('POST', '/trading/orders', order, TRADER)).status).toBe(201);
    const again = await s.call('POST', '/trading/orders', order, TRADER);
    expect(again.body.error?.code).toBe('DUPLICATE_ORDER');
  });

  it('the account\'s guardrails refuse an executor\'s orders like anyone\'s: a cap, then a kill switch', async () => {
    clock.set(PINNED);
    await account('capped', '100000');
    const policy = await s.call('PUT', '/accounts/capped/policy', { max_order_notional: '100' });
    expect(policy.status, policy.text).toBe(200);
    const big = await create('capped', position());
    expect(big).toMatchObject({ status: 'terminated', close_type: 'FAILED', error_count: 1 });
    expect(big.last_error).toMatch(/per-order cap of 100 USDT/);
    const small = await create('capped', position({ amount: '0.001', triple_barrier: { stop_loss: 0.5 } }));
    expect(small.status).toBe('active');

    const ks = await s.call('POST', '/safety/kill-switch', { account_name: 'capped', reason: 'test' });
    expect(ks.status, ks.text).toBe(200);
    const blocked = await create('capped', position({ amount: '0.001' }));
    expect(blocked).toMatchObject({ status: 'terminated', close_type: 'FAILED' });
    const journal = await rows(sql`select principal, outcome from audit_events where request_id like 'executor:%' and account_name = 'capped' order by id`);
    expect(journal).toEqual([
      { principal: 'tess', outcome: 'RISK_LIMIT_EXCEEDED' },
      { principal: 'tess', outcome: 'OK' },
      { principal: 'tess', outcome: 'KILL_SWITCH_ACTIVE' },
    ]);
    expect(await rows(sql`select count(*)::int as n from orders where account_name = 'capped'`)).toEqual([{ n: 1 }]);

    // A minute later the running one's unrealized PnL has moved; the summary adds it as of that cycle.
    clock.set(PINNED + 60_000);
    await s.services.executors.runOnce();
    const live = (await get(small.executor_id)).report;
    const stored = (await rows<{ u: string }>(sql`select report->>'unrealized_pnl_quote' as u from executors where id = ${small.executor_id}`))[0]!.u;
    expect(live.unrealized_pnl_quote).not.toBe(Number(stored));
    const sum = await s.call('GET', '/executors/summary?account_name=capped');
    expect(sum.body.accounts).toEqual([expect.objectContaining({ account_name: 'capped', total_executors: 3, active_executors: 1, unrealized_pnl_quote: live.unrealized_pnl_quote, net_pnl_quote: live.net_pnl_quote })]);
    expect(sum.body.total).toEqual(expect.objectContaining({ total_executors: 3, net_pnl_quote: live.net_pnl_quote }));
  });

  it('a running executor is resumed by the next server on the same database, barriers intact', async () => {
    clock.set(PINNED);
    await account('resume', '100000');
    const e = await create('resume', position({ side: 'sell', triple_barrier: { stop_loss: 0.5, take_profit: 0.5 } }));
    // A spot sell of BTC the account does not hold is refused: this executor must open with a buy.
    expect(e.close_type).toBe('INSUFFICIENT_BALANCE');
    const live = await create('resume', position({ triple_barrier: { stop_loss: 0.003, take_profit: 0.003 } }));
    const before = (await rows<{ state: unknown }>(sql`select state from executors where id = ${live.executor_id}`))[0]!.state;

    await s.close();
    const again = await startServer(s.env.config, createLogger('silent'), options);
    s = { ...s, ...again, call: (method, path, body, auth) => httpJson(again.url, method, path, body, auth === undefined ? basicHeader('admin', 'test-admin-password') : auth), stop: async () => { await again.close(); await s.env.cleanup(); } };

    expect((await rows<{ state: unknown }>(sql`select state from executors where id = ${live.executor_id}`))[0]!.state).toEqual(before);
    const entry = D((await get(live.executor_id)).report.entry_price);
    let t = PINNED;
    let expected: string | null = null;
    while (!expected && t < PINNED + 86_400_000) {
      t += STEP_MS;
      const pnl = bidAt(t).minus(entry).div(entry);
      expected = pnl.lte(-0.003) ? 'STOP_LOSS' : pnl.gte(0.003) ? 'TAKE_PROFIT' : null;
    }
    clock.set(t);
    await s.services.executors.runOnce();
    const after = await get(live.executor_id);
    expect(after.executor).toMatchObject({ status: 'terminated', close_type: expected });
    expect(after.orders.map((o) => [o.side, o.status])).toEqual([
      ['buy', 'filled'],
      ['sell', 'filled'],
    ]);
  });
});
