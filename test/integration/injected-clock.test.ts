import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * The server runs on the clock it is given: every time a service stamps or compares comes from it, so a
 * clock set far from the wall (as a backtest or a test sets it) shows in every row and answer. The order
 * path is not checked here: it takes the clock in its own change.
 */
const T = Date.UTC(2025, 0, 15, 9, 0, 0, 0);
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(drivers())('an injected clock on %s', (driver) => {
  let s: TestServer;
  const clock = new ManualClock(T);
  const rows = async (q: ReturnType<typeof sql>) => ((await s.services.db.execute(q)) as unknown as { rows: any[] }).rows;
  const at = (v: string | Date) => new Date(v).getTime();

  beforeAll(async () => {
    s = await testServer(driver, {}, { clock });
    s.services.portfolio.stopSnapshots();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('stamps users, accounts, policies and kill switches with its time', async () => {
    clock.set(T);
    const user = await s.call('POST', '/users', { username: 'clocked', password: 'clocked-password-1', role: 'viewer' });
    expect(user.status, user.text).toBe(201);
    expect(user.body).toMatchObject({ created_at: iso(T), updated_at: iso(T) });

    const made = await s.call('POST', '/accounts', { account_name: 'clocked', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '1000' } }] });
    expect(made.status, made.text).toBe(201);
    const [acct] = await rows(sql`select created_at, updated_at from accounts where name = 'clocked'`);
    expect([at(acct.created_at), at(acct.updated_at)]).toEqual([T, T]);
    const [conn] = await rows(sql`select created_at, updated_at from account_connectors where account_name = 'clocked'`);
    expect([at(conn.created_at), at(conn.updated_at)]).toEqual([T, T]);

    clock.advance(MINUTE);
    expect((await s.call('PUT', '/users/clocked', { role: 'trader' })).body).toMatchObject({ created_at: iso(T), updated_at: iso(T + MINUTE) });
    expect((await s.call('PUT', '/accounts/clocked/policy', { max_orders_per_minute: 5 })).status).toBe(200);
    const [policy] = await rows(sql`select updated_at from account_policies where account_name = 'clocked'`);
    expect(at(policy.updated_at)).toBe(T + MINUTE);

    clock.advance(MINUTE);
    const ks = await s.call('POST', '/safety/kill-switch', { account_name: 'clocked', reason: 'clock test' });
    expect(ks.status, ks.text).toBe(200);
    const [sw] = await rows(sql`select set_at from kill_switches where scope = 'clocked'`);
    expect(at(sw.set_at)).toBe(T + 2 * MINUTE);
  });

  it('journals each call at its time, and counts the rate window in it', async () => {
    clock.set(T + 10 * MINUTE);
    expect((await s.call('GET', '/accounts/clocked/balances')).status).toBe(200);
    await s.services.audit.flush();
    const [row] = await rows(sql`select at from audit_events where command = 'accounts_get_balances' order by id desc limit 1`);
    expect(at(row.at)).toBe(T + 10 * MINUTE);

    expect((await s.call('POST', '/accounts', { account_name: 'rated', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '100000' } }] })).status).toBe(201);
    expect((await s.call('PUT', '/accounts/rated/policy', { max_orders_per_minute: 1 })).status).toBe(200);
    const order = { account_name: 'rated', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' };
    expect((await s.call('POST', '/trading/orders', order)).status).toBe(201);
    clock.advance(59_000);
    expect((await s.call('POST', '/trading/orders', order)).body.error.code).toBe('RATE_LIMITED');
    // A minute of the clock, not of the wall, frees the window.
    clock.advance(2_000);
    expect((await s.call('POST', '/trading/orders', order)).status).toBe(201);
  });

  it('quotes sim market data and values the portfolio at its time, and "now" in a query is its now', async () => {
    clock.set(T + 20 * MINUTE);
    const ticker = await s.call('GET', '/market-data/ticker/BTC-USDT?connector_name=sim');
    expect(ticker.body.timestamp).toBe(T + 20 * MINUTE);

    expect(await s.services.portfolio.snapshot()).toBeGreaterThan(0);
    const [snap] = await rows(sql`select at from portfolio_snapshots where account_name = 'clocked'`);
    expect(at(snap.at)).toBe(T + 20 * MINUTE);

    // The default range of the history ends at the clock's now, far from the wall's.
    clock.advance(MINUTE);
    const history = await s.call('GET', '/portfolio/history?account_names=clocked&interval=5m');
    expect(history.status, history.text).toBe(200);
    expect(history.body.points.map((p: { timestamp: number }) => p.timestamp)).toEqual([T + 20 * MINUTE]);
    const perf = await s.call('GET', '/portfolio/performance?account_names=clocked&window=1h');
    expect(perf.body.start_time).toBe(iso(T + 20 * MINUTE));
    // An hour later the snapshot has left the one-hour window.
    clock.advance(60 * MINUTE);
    expect((await s.call('GET', '/portfolio/performance?account_names=clocked&window=1h')).body.start_time).toBeNull();
  });
});
