import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portfolioSnapshots } from '../../src/core/db/schema/index.js';
import { Decimal } from '../../src/core/decimal.js';
import { expectError } from '../helpers/errors.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { offlineBinance, type OfflineExchange } from '../helpers/offline-exchange.js';
import { ManualClock } from '../../src/core/clock.js';

type Res = { status: number; body: any; headers: Headers };

const MINUTE = 60_000;
/** The sim clock, pinned; the history test moves it to each snapshot's time. */
const T0 = Date.UTC(2026, 2, 10, 15, 30, 12, 250);
const iso = (ms: number) => new Date(ms).toISOString();
const D = (v: number | string) => new Decimal(String(v));
const sum = (xs: Array<number | string | Decimal>) => xs.reduce<Decimal>((s, x) => s.plus(x instanceof Decimal ? x : D(x)), new Decimal(0));

function expectOk(r: Res, status = 200): any {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
}

describe.each(drivers())('portfolio on %s', (driver) => {
  let s: TestServer;
  let offline: OfflineExchange;
  const clock = new ManualClock(T0);
  let mid: Decimal;
  const get = (path: string) => s.call('GET', path);
  const connectorOf = (body: any, account: string, connector: string) =>
    body.accounts.find((a: any) => a.account_name === account)?.connectors.find((c: any) => c.connector_name === connector);
  const setPaper = async (account: string, connector: string, balances: Record<string, string>) =>
    expectOk(await s.call('PUT', `/accounts/${account}/paper-balances`, { connector_name: connector, balances }));
  const order = async (body: Record<string, unknown>) => {
    const o = expectOk(await s.call('POST', '/trading/orders', { order_type: 'market', ...body }), 201);
    expect(o.order.status).toBe('filled');
    return o;
  };

  beforeAll(async () => {
    offline = await offlineBinance();
    s = await testServer(driver, {}, { clock, ccxt: offline.ccxt });
    // Snapshots are taken by the tests, at the times they choose; none on the server's own schedule.
    s.services.portfolio.stopSnapshots();
    const t = expectOk(await get('/market-data/ticker/BTC-USDT?connector_name=sim'));
    mid = D((t.bid + t.ask) / 2);
  });
  afterAll(async () => {
    await s?.stop();
    await offline?.close();
  });

  describe('balances', () => {
    it("values master_account's paper holdings exactly: BTC at the sim mid, USDT at 1", async () => {
      const b = expectOk(await get('/portfolio/balances?account_names=master_account'));
      expect(b.quote).toBe('USDT');
      expect(b.accounts.map((a: any) => a.account_name)).toEqual(['master_account']);
      const acct = b.accounts[0];
      expect(acct.connectors.map((c: any) => c.connector_name)).toEqual(['sim', 'sim_perpetual']);
      const [sim, perp] = acct.connectors;
      expect(sim).toEqual({
        connector_name: 'sim',
        status: 'ok',
        total_value: mid.plus(10000).toNumber(),
        unrealized_pnl: 0,
        holdings: [
          { asset: 'BTC', amount: 1, available: 1, price: mid.toNumber(), value: mid.toNumber() },
          { asset: 'USDT', amount: 10000, available: 10000, price: 1, value: 10000 },
        ],
      });
      expect(perp).toEqual({
        connector_name: 'sim_perpetual',
        status: 'ok',
        total_value: 10000,
        unrealized_pnl: 0,
        holdings: [{ asset: 'USDT', amount: 10000, available: 10000, price: 1, value: 10000 }],
      });
      // Totals are the exact sums of their parts.
      for (const c of acct.connectors) expect(D(c.total_value).eq(sum(c.holdings.map((h: any) => h.value)).plus(D(c.unrealized_pnl)))).toBe(true);
      expect(D(acct.total_value).eq(mid.plus(20000))).toBe(true);
      expect(D(b.total_value).eq(sum(acct.connectors.map((c: any) => c.total_value)))).toBe(true);
    });

    it('values in another quote: BTC at 1, USDT at 1 / mid', async () => {
      const b = expectOk(await get('/portfolio/balances?account_names=master_account&connector_names=sim&quote=BTC'));
      expect(b.quote).toBe('BTC');
      const sim = connectorOf(b, 'master_account', 'sim');
      const byAsset = Object.fromEntries(sim.holdings.map((h: any) => [h.asset, h]));
      expect(byAsset.BTC).toMatchObject({ price: 1, value: 1 });
      expect(byAsset.USDT.price).toBeCloseTo(new Decimal(1).div(mid).toNumber(), 12);
      expect(b.total_value).toBeCloseTo(new Decimal(1).plus(new Decimal(10000).div(mid)).toNumber(), 9);
      // The filter kept sim only.
      expect(b.accounts[0].connectors.map((c: any) => c.connector_name)).toEqual(['sim']);
    });

    it("includes a perpetual position's unrealized PnL in its connector's total", async () => {
      const placed = await order({ connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.01', leverage: 5 });
      const fee = D(placed.order.fee_paid);
      expect(fee.gt(0)).toBe(true);
      const positions = expectOk(await get('/trading/positions?account_name=master_account')).data;
      expect(positions).toHaveLength(1);
      const u = positions[0].unrealized_pnl;
      expect(typeof u).toBe('number');
      expect(u).not.toBe(0);

      const b = expectOk(await get('/portfolio/balances?account_names=master_account'));
      const perp = connectorOf(b, 'master_account', 'sim_perpetual');
      expect(perp.unrealized_pnl).toBe(u);
      expect(perp.holdings).toEqual([{ asset: 'USDT', amount: D(10000).minus(fee).toNumber(), available: D(10000).minus(fee).toNumber(), price: 1, value: D(10000).minus(fee).toNumber() }]);
      expect(D(perp.total_value).eq(D(10000).minus(fee).plus(D(u)))).toBe(true);
      // The spot connector is untouched, and the totals add up.
      expect(connectorOf(b, 'master_account', 'sim').total_value).toBe(mid.plus(10000).toNumber());
      expect(D(b.total_value).eq(mid.plus(10000).plus(D(perp.total_value)))).toBe(true);
    });
  });

  describe('distribution', () => {
    it('splits the value across assets, largest first, percentages adding up to 100', async () => {
      const b = expectOk(await get('/portfolio/balances?account_names=master_account'));
      const d = expectOk(await get('/portfolio/distribution?account_names=master_account'));
      expect(d.quote).toBe('USDT');
      expect(d.unpriced).toEqual([]);
      expect(d.assets.map((a: any) => a.asset).sort()).toEqual(['BTC', 'USDT']);
      const values = d.assets.map((a: any) => a.value);
      expect([...values].sort((x, y) => y - x)).toEqual(values);
      const pct = sum(d.assets.map((a: any) => a.percentage));
      expect(Math.abs(pct.toNumber() - 100)).toBeLessThanOrEqual(0.01);
      expect(D(d.total_value).eq(sum(values))).toBe(true);
      for (const a of d.assets) expect(a.percentage).toBeCloseTo((a.value / d.total_value) * 100, 3);
      // Amounts are summed over connectors; unrealized PnL is not an asset.
      const usdt = d.assets.find((a: any) => a.asset === 'USDT');
      const perpUsdt = connectorOf(b, 'master_account', 'sim_perpetual').holdings[0].amount;
      expect(D(usdt.amount).eq(D(10000).plus(D(perpUsdt)))).toBe(true);
      expect(d.assets.find((a: any) => a.asset === 'BTC')).toMatchObject({ amount: 1, value: mid.toNumber() });
      const unrealized = sum(b.accounts[0].connectors.map((c: any) => c.unrealized_pnl));
      expect(D(d.total_value).minus(D(b.total_value).minus(unrealized)).abs().lt('1e-9')).toBe(true);
    });
  });

  describe('connectors in trouble and assets without a price', () => {
    it('an unreachable exchange shows status error and leaves the totals alone', async () => {
      const before = expectOk(await get('/portfolio/balances'));
      const beforeDist = expectOk(await get('/portfolio/distribution'));
      expectOk(await s.call('PUT', '/accounts/master_account', { connectors: [{ connector_name: 'binance', credentials: { api_key: 'FAKEKEY0123456789', secret: 'fake-secret-not-real' } }] }));
      try {
        const after = expectOk(await get('/portfolio/balances'));
        const binance = connectorOf(after, 'master_account', 'binance');
        expect(binance).toMatchObject({ connector_name: 'binance', status: 'error', holdings: [], total_value: 0, unrealized_pnl: 0 });
        expect(['UPSTREAM_UNAVAILABLE', 'TIMEOUT']).toContain(binance.error.code);
        expect(binance.error.message).toBeTruthy();
        expect(JSON.stringify(after)).not.toContain('fake-secret-not-real');
        expect(after.total_value).toBe(before.total_value);
        expect(after.accounts[0].total_value).toBe(before.accounts[0].total_value);
        for (const name of ['sim', 'sim_perpetual']) expect(connectorOf(after, 'master_account', name)).toEqual(connectorOf(before, 'master_account', name));
        expect(expectOk(await get('/portfolio/distribution'))).toEqual(beforeDist);
        const perf = expectOk(await get('/portfolio/performance?window=1h'));
        expect(perf.end_value).toBe(before.total_value);
        // A snapshot stores the reachable connectors only.
        expect(await s.services.portfolio.snapshot('USDT', new Date(Date.UTC(2024, 0, 1)))).toBe(2);
        // Asked for alone, the broken connector is still an answer, not a failure.
        const alone = expectOk(await get('/portfolio/balances?connector_names=binance'));
        expect(alone.total_value).toBe(0);
        expect(connectorOf(alone, 'master_account', 'binance').status).toBe('error');
      } finally {
        expectOk(await s.call('PUT', '/accounts/master_account', { remove_connectors: ['binance'] }));
      }
    });

    it('an unpriced asset is shown with a null price, listed apart, never counted', async () => {
      expectOk(await s.call('POST', '/accounts', { account_name: 'bob', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '100', BTC: '0.5', XYZ: '5' } }] }), 201);
      const b = expectOk(await get('/portfolio/balances?account_names=bob'));
      const sim = connectorOf(b, 'bob', 'sim');
      expect(sim.status).toBe('ok');
      expect(sim.holdings).toEqual([
        { asset: 'BTC', amount: 0.5, available: 0.5, price: mid.toNumber(), value: mid.times('0.5').toNumber() },
        { asset: 'USDT', amount: 100, available: 100, price: 1, value: 100 },
        { asset: 'XYZ', amount: 5, available: 5, price: null, value: null },
      ]);
      expect(D(sim.total_value).eq(mid.times('0.5').plus(100))).toBe(true);
      expect(D(b.total_value).eq(mid.times('0.5').plus(100))).toBe(true);

      const d = expectOk(await get('/portfolio/distribution?account_names=bob'));
      expect(d.unpriced).toEqual([{ asset: 'XYZ', amount: 5 }]);
      expect(d.assets.map((a: any) => a.asset)).not.toContain('XYZ');
      expect(D(d.total_value).eq(mid.times('0.5').plus(100))).toBe(true);
      expect(Math.abs(sum(d.assets.map((a: any) => a.percentage)).toNumber() - 100)).toBeLessThanOrEqual(0.01);

      // Across every account too.
      const all = expectOk(await get('/portfolio/distribution'));
      expect(all.unpriced).toEqual([{ asset: 'XYZ', amount: 5 }]);
      const values = all.assets.map((a: any) => a.value);
      expect([...values].sort((x, y) => y - x)).toEqual(values);
      expect(Math.abs(sum(all.assets.map((a: any) => a.percentage)).toNumber() - 100)).toBeLessThanOrEqual(0.01);
    });
  });

  describe('performance', () => {
    const perfRows = async (account: string) =>
      s.services.db.select().from(portfolioSnapshots).where(eq(portfolioSnapshots.accountName, account)).orderBy(asc(portfolioSnapshots.at), asc(portfolioSnapshots.connectorName));

    it('start value from the first snapshot in the window, end value now, fees and realized PnL from the fills', async () => {
      expectOk(
        await s.call('POST', '/accounts', {
          account_name: 'perf',
          connectors: [
            { connector_name: 'sim', paper_balances: { USDT: '10000', BTC: '0.5' } },
            { connector_name: 'sim_perpetual', paper_balances: { USDT: '5000' } },
          ],
        }),
        201,
      );
      const now = clock.now();
      const outside = new Date(now - 90 * MINUTE);
      const first = new Date(now - 40 * MINUTE);
      const later = new Date(now - 20 * MINUTE);
      await setPaper('perf', 'sim', { USDT: '9000', BTC: '0.5' });
      await s.services.portfolio.snapshot('USDT', outside);
      await setPaper('perf', 'sim', { USDT: '10000', BTC: '0.5' });
      await s.services.portfolio.snapshot('USDT', first);
      await s.services.portfolio.snapshot('USDT', later);

      const rows = await perfRows('perf');
      expect(rows.map((r) => [r.at.getTime(), r.connectorName])).toEqual([
        [outside.getTime(), 'sim'],
        [outside.getTime(), 'sim_perpetual'],
        [first.getTime(), 'sim'],
        [first.getTime(), 'sim_perpetual'],
        [later.getTime(), 'sim'],
        [later.getTime(), 'sim_perpetual'],
      ]);
      // The snapshots hold the exact valuation at the time.
      expect(D(rows[0]!.totalValue).eq(mid.times('0.5').plus(9000))).toBe(true);
      expect(D(rows[2]!.totalValue).eq(mid.times('0.5').plus(10000))).toBe(true);
      expect(D(rows[3]!.totalValue).eq(5000)).toBe(true);
      const startInWindow = D(rows[2]!.totalValue).plus(D(rows[3]!.totalValue));
      const startAll = D(rows[0]!.totalValue).plus(D(rows[1]!.totalValue));

      // Trade: two spot orders, and a perpetual position opened and closed.
      await order({ account_name: 'perf', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.01' });
      await order({ account_name: 'perf', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'sell', amount: '0.02' });
      await order({ account_name: 'perf', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.02', leverage: 3 });
      const closed = expectOk(await s.call('POST', '/trading/close-position', { account_name: 'perf', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' }), 201);
      expect(closed.order.status).toBe('filled');
      expect(expectOk(await get('/trading/positions?account_name=perf')).data).toEqual([]);

      const fills = expectOk(await get('/trading/history?account_name=perf&limit=1000')).data;
      expect(fills.length).toBeGreaterThanOrEqual(4);
      const fees = sum(fills.map((f: any) => f.fee));
      const realized = sum(fills.filter((f: any) => f.realized_pnl !== null).map((f: any) => f.realized_pnl));
      expect(realized.isZero()).toBe(false); // bought at the ask, closed at the bid
      const perpFills = fills.filter((f: any) => f.connector_name === 'sim_perpetual');

      const end = expectOk(await get('/portfolio/balances?account_names=perf')).total_value;
      const p = expectOk(await get('/portfolio/performance?window=1h&account_names=perf'));
      expect(p.window).toBe('1h');
      expect(p.quote).toBe('USDT');
      expect(p.start_time).toBe(first.toISOString());
      expect(p.start_value).toBe(startInWindow.toNumber());
      expect(p.end_value).toBe(end);
      expect(p.value_change).toBeCloseTo(D(end).minus(startInWindow).toNumber(), 9);
      expect(p.value_change_pct).toBeCloseTo(D(end).minus(startInWindow).div(startInWindow).times(100).toNumber(), 4);
      expect(p.fees_paid).toBe(fees.toNumber());
      expect(p.realized_pnl).toBe(realized.toNumber());
      expect(p.unrealized_pnl).toBe(0);
      // The change is what trading cost: fees, the spread, and realized PnL.
      expect(p.value_change).toBeLessThan(0);

      // The whole history starts at the older snapshot.
      const all = expectOk(await get('/portfolio/performance?window=all&account_names=perf'));
      expect(all.start_time).toBe(outside.toISOString());
      expect(all.start_value).toBe(startAll.toNumber());
      expect(all.end_value).toBe(end);
      expect(all.fees_paid).toBe(fees.toNumber());

      // A connector filter narrows the snapshots and the fills alike.
      const perpOnly = expectOk(await get('/portfolio/performance?window=1h&account_names=perf&connector_names=sim_perpetual'));
      expect(perpOnly.start_value).toBe(5000);
      expect(perpOnly.fees_paid).toBe(sum(perpFills.map((f: any) => f.fee)).toNumber());
      expect(perpOnly.realized_pnl).toBe(realized.toNumber());
    });

    it('without a snapshot in the window, start value and change are null', async () => {
      expectOk(await s.call('POST', '/accounts', { account_name: 'fresh', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '42' } }] }), 201);
      const p = expectOk(await get('/portfolio/performance?window=1h&account_names=fresh'));
      expect(p).toMatchObject({ start_time: null, start_value: null, value_change: null, value_change_pct: null, end_value: 42, fees_paid: 0, realized_pnl: 0, unrealized_pnl: 0 });
    });
  });

  describe('history', () => {
    const H0 = Date.UTC(2025, 5, 1, 12, 0, 0);
    /** (offset from H0, hist's USDT balance at that snapshot) */
    const SNAPS: Array<[number, number]> = [
      [1 * MINUTE, 1000],
      [3 * MINUTE, 1100],
      [6 * MINUTE, 1200],
      [16 * MINUTE, 1300],
      [19 * MINUTE + 59_000, 1400],
      [20 * MINUTE, 1500],
      [26 * MINUTE, 1600],
    ];
    const hist = (q: string) => get(`/portfolio/history?${q}`);

    beforeAll(async () => {
      expectOk(await s.call('POST', '/accounts', { account_name: 'hist', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '1' } }] }), 201);
      try {
        for (const [offset, usdt] of SNAPS) {
          clock.set(H0 + offset);
          await setPaper('hist', 'sim', { USDT: String(usdt) });
          await s.services.portfolio.snapshot('USDT', new Date(H0 + offset));
        }
      } finally {
        clock.set(T0);
      }
    });

    it('one point per bucket, holding the last snapshot in it', async () => {
      const h = expectOk(await hist(`interval=5m&start_time=${H0}&end_time=${H0 + 20 * MINUTE}&account_names=hist`));
      expect(h).toEqual({
        interval: '5m',
        truncated: false,
        previous_end_time: null,
        points: [
          { timestamp: H0, time: iso(H0), total_value: 1100, by_account: { hist: 1100 } },
          { timestamp: H0 + 5 * MINUTE, time: iso(H0 + 5 * MINUTE), total_value: 1200, by_account: { hist: 1200 } },
          // No snapshot in the 10-15 minute bucket: no point for it.
          { timestamp: H0 + 15 * MINUTE, time: iso(H0 + 15 * MINUTE), total_value: 1400, by_account: { hist: 1400 } },
          { timestamp: H0 + 20 * MINUTE, time: iso(H0 + 20 * MINUTE), total_value: 1500, by_account: { hist: 1500 } },
        ],
      });
    });

    it('honours the time range, ISO or epoch ms alike', async () => {
      const byMs = expectOk(await hist(`interval=5m&start_time=${H0 + 4 * MINUTE}&end_time=${H0 + 19 * MINUTE}&account_names=hist`));
      expect(byMs.points.map((p: any) => [p.timestamp, p.total_value])).toEqual([
        [H0 + 5 * MINUTE, 1200],
        [H0 + 15 * MINUTE, 1300],
      ]);
      const byIso = expectOk(await hist(`interval=5m&start_time=${iso(H0 + 4 * MINUTE)}&end_time=${iso(H0 + 19 * MINUTE)}&account_names=hist`));
      expect(byIso).toEqual(byMs);
    });

    it('a coarser interval, and a limit keeping the latest points', async () => {
      const q = `start_time=${H0}&end_time=${H0 + 30 * MINUTE}&account_names=hist`;
      const quarter = expectOk(await hist(`interval=15m&${q}`));
      expect(quarter.points.map((p: any) => [p.timestamp, p.total_value])).toEqual([
        [H0, 1200],
        [H0 + 15 * MINUTE, 1600],
      ]);
      const limited = expectOk(await hist(`interval=5m&limit=2&${q}`));
      expect(limited.truncated).toBe(true);
      expect(limited.previous_end_time).toBe(iso(H0 + 20 * MINUTE - 1));
      expect(limited.points.map((p: any) => [p.timestamp, p.total_value])).toEqual([
        [H0 + 20 * MINUTE, 1500],
        [H0 + 25 * MINUTE, 1600],
      ]);
    });

    it('across all accounts each point splits by account and adds up', async () => {
      const h = expectOk(await hist(`interval=5m&start_time=${H0}&end_time=${H0 + 30 * MINUTE}`));
      expect(h.points.map((p: any) => p.by_account.hist)).toEqual([1100, 1200, 1400, 1500, 1600]);
      for (const p of h.points) {
        expect(Object.keys(p.by_account).sort()).toEqual(['bob', 'fresh', 'hist', 'master_account', 'perf']);
        expect(p.total_value).toBeCloseTo(sum(Object.values(p.by_account) as number[]).toNumber(), 6);
      }
      const master = expectOk(await hist(`interval=5m&start_time=${H0}&end_time=${H0 + 30 * MINUTE}&account_names=master_account`));
      expect(master.points.map((p: any) => p.total_value)).toEqual(h.points.map((p: any) => p.by_account.master_account));
    });

    it('an empty range has no points', async () => {
      expect(expectOk(await hist(`interval=1h&start_time=${H0 - 86_400_000}&end_time=${H0 - 1}`))).toEqual({ interval: '1h', points: [], truncated: false, previous_end_time: null });
    });
  });

  describe('bad input is a 400', () => {
    it.each([
      ['/portfolio/balances?quote=usdt', 'quote'],
      ['/portfolio/distribution?quote=usdt', 'quote'],
      ['/portfolio/performance?quote=Usdt', 'quote'],
      ['/portfolio/performance?window=2h', 'window'],
      ['/portfolio/performance?window=', 'window'],
      ['/portfolio/history?interval=7m', 'interval'],
      [`/portfolio/history?start_time=${T0}&end_time=${T0 - 1}`, 'start_time'],
      [`/portfolio/history?start_time=${iso(T0)}&end_time=${iso(T0 - MINUTE)}`, 'start_time'],
      ['/portfolio/history?start_time=last-tuesday', 'start_time'],
      ['/portfolio/history?limit=0', 'limit'],
      ['/portfolio/balances?account_names=bad%20name!', 'account_names'],
      ['/portfolio/balances?colour=blue', 'colour'],
    ])('%s', async (path, field) => {
      const e = expectError(await get(path), 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(e.details ?? {})).toContain(field);
    });
  });
});
