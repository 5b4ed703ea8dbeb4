import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../helpers/errors.js';
import { offlineBinance, type OfflineExchange } from '../helpers/offline-exchange.js';
import { ADMIN_AUTH, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

type Res = { status: number; body: any; headers: Headers };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(drivers())('REST API on %s', (driver) => {
  let s: TestServer;
  // Binance on a local server that hangs up: unreachable on any machine, connected or not.
  let offline: OfflineExchange;

  beforeAll(async () => {
    offline = await offlineBinance();
    s = await testServer(driver, {}, { ccxt: offline.ccxt });
  });
  afterAll(async () => {
    await s?.stop();
    await offline?.close();
  });

  describe('accounts lifecycle', () => {
    const paper = { USDT: '2500.5', BTC: '0.12345678', ETH: 3, SOL: '1000000.000001' };
    const creds = { api_key: 'AKLIFECYCLE0123456789', secret: 'lifecycle-secret-value-42' };

    it('creates an account with a sim connector and custom paper balances', async () => {
      const r = await s.call('POST', '/accounts', { account_name: 'alice', connectors: [{ connector_name: 'sim', paper_balances: paper }] });
      expect(r.status).toBe(201);
      expect(r.body.account_name).toBe('alice');
      expect(r.body.connectors).toEqual([{ connector_name: 'sim', kind: 'sim', credentials: {}, updated_at: expect.any(String) }]);
      expect(Date.parse(r.body.created_at)).not.toBeNaN();
      expect(r.body.created_at).toMatch(/Z$/);
    });

    it('lists it next to master_account', async () => {
      const r = await s.call('GET', '/accounts');
      expect(r.status).toBe(200);
      expect(r.body.data.map((a: { account_name: string }) => a.account_name)).toEqual(['alice', 'master_account']);
      expect(r.body.pagination).toEqual({ limit: 100, has_more: false, next_cursor: null });
    });

    it('pages the account list', async () => {
      const p1 = await s.call('GET', '/accounts?limit=1');
      expect(p1.body.data.map((a: { account_name: string }) => a.account_name)).toEqual(['alice']);
      expect(p1.body.pagination).toEqual({ limit: 1, has_more: true, next_cursor: '1' });
      const p2 = await s.call('GET', `/accounts?limit=1&cursor=${p1.body.pagination.next_cursor}`);
      expect(p2.body.data.map((a: { account_name: string }) => a.account_name)).toEqual(['master_account']);
      expect(p2.body.pagination.has_more).toBe(false);
    });

    it('reports the balances exactly as given', async () => {
      const r = await s.call('GET', '/accounts/alice/balances');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        account_name: 'alice',
        connectors: [
          {
            connector_name: 'sim',
            status: 'ok',
            balances: [
              { asset: 'BTC', total: 0.12345678, available: 0.12345678, locked: 0 },
              { asset: 'ETH', total: 3, available: 3, locked: 0 },
              { asset: 'SOL', total: 1000000.000001, available: 1000000.000001, locked: 0 },
              { asset: 'USDT', total: 2500.5, available: 2500.5, locked: 0 },
            ],
          },
        ],
      });
      // The JSON text carries the same digits that were sent.
      const text = await (await fetch(`${s.url}/accounts/alice/balances`, { headers: { authorization: ADMIN_AUTH } })).text();
      expect(text).toContain('"total":0.12345678');
      expect(text).toContain('"total":1000000.000001');
      expect(text).toContain('"total":2500.5');
    });

    it('an executor on a live perpetual connector cannot ask for a leverage the server would not set', async () => {
      const add = await s.call('POST', '/accounts', { account_name: 'perp_desk', connectors: [{ connector_name: 'binance_perpetual', credentials: creds }] });
      expect(add.status, add.text).toBe(201);
      const r = await s.call('POST', '/executors', { account_name: 'perp_desk', executor_config: { type: 'position', connector_name: 'binance_perpetual', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.01', leverage: 5 } });
      expect(r.status, r.text).toBe(400);
      expect(r.body.error.details.issues).toEqual([{ path: 'executor_config.leverage', message: expect.stringContaining('leave leverage at 1 and set it on the exchange') }]);
      expect((await s.call('DELETE', '/accounts/perp_desk')).status, 'cleaned up').toBeLessThan(300);
    });

    it('adds a binance connector with credentials, returned masked', async () => {
      const r = await s.call('PUT', '/accounts/alice', { connectors: [{ connector_name: 'binance', credentials: creds }] });
      expect(r.status).toBe(200);
      const binance = r.body.connectors.find((c: { connector_name: string }) => c.connector_name === 'binance');
      expect(binance).toMatchObject({ connector_name: 'binance', kind: 'exchange', credentials: { api_key: 'AKL***789', secret: '***' } });
      expect(JSON.stringify(r.body)).not.toContain(creds.secret);
      expect(JSON.stringify(r.body)).not.toContain(creds.api_key);
      // sim and its balances are untouched.
      expect(r.body.connectors.map((c: { connector_name: string }) => c.connector_name)).toEqual(['binance', 'sim']);
    });

    it('lists the account with masked credentials', async () => {
      const r = await s.call('GET', '/accounts');
      const alice = r.body.data.find((a: { account_name: string }) => a.account_name === 'alice');
      expect(alice.connectors.find((c: { connector_name: string }) => c.connector_name === 'binance').credentials).toEqual({ api_key: 'AKL***789', secret: '***' });
      expect(JSON.stringify(r.body)).not.toContain(creds.secret);
      expect(JSON.stringify(r.body)).not.toContain(creds.api_key);
    });

    it('reports binance as an error in place (the offline exchange) while sim is ok', async () => {
      const r = await s.call('GET', '/accounts/alice/balances');
      expect(r.status).toBe(200);
      const byName = Object.fromEntries(r.body.connectors.map((c: { connector_name: string }) => [c.connector_name, c]));
      expect(byName.sim.status).toBe('ok');
      expect(byName.sim.balances).toHaveLength(4);
      expect(byName.binance.status).toBe('error');
      expect(byName.binance.balances).toEqual([]);
      expect(byName.binance.error.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(byName.binance.error.hint).toBeTruthy();
    });

    it('asking for the unreachable connector alone is a 503 with Retry-After', async () => {
      const r = await s.call('GET', '/accounts/alice/balances?connector_name=binance');
      const e = expectError(r, 503, 'UPSTREAM_UNAVAILABLE');
      expect(e.retryable).toBe(true);
      expect(e.hint).toBeTruthy();
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it('asking for a connector the account lacks is 404', async () => {
      expectError(await s.call('GET', '/accounts/alice/balances?connector_name=sim_perpetual'), 404, 'NOT_FOUND');
    });

    it('removes a connector', async () => {
      const r = await s.call('PUT', '/accounts/alice', { remove_connectors: ['binance'] });
      expect(r.status).toBe(200);
      expect(r.body.connectors.map((c: { connector_name: string }) => c.connector_name)).toEqual(['sim']);
      const bal = await s.call('GET', '/accounts/alice/balances');
      expect(bal.body.connectors.map((c: { connector_name: string }) => c.connector_name)).toEqual(['sim']);
    });

    it('removing a connector that is not attached is 404', async () => {
      expectError(await s.call('PUT', '/accounts/alice', { remove_connectors: ['binance'] }), 404, 'NOT_FOUND');
    });

    it('a duplicate create is 409 CONFLICT', async () => {
      const e = expectError(await s.call('POST', '/accounts', { account_name: 'alice' }), 409, 'CONFLICT');
      expect(e.hint).toMatch(/PUT/);
      // The original is untouched.
      const r = await s.call('GET', '/accounts/alice/balances');
      expect(r.body.connectors[0].balances).toHaveLength(4);
    });

    it('refuses to delete an account, or remove a connector, while an executor, an order or a position still trades there', async () => {
      expect((await s.call('POST', '/accounts', { account_name: 'busy_desk', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '10000' } }, { connector_name: 'sim_perpetual', paper_balances: { USDT: '10000' } }] })).status).toBe(201);
      const rest = await s.call('POST', '/trading/orders', { account_name: 'busy_desk', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '0.01', price: '1000' });
      expect(rest.status, JSON.stringify(rest.body)).toBe(201);
      const ex = await s.call('POST', '/executors', { account_name: 'busy_desk', executor_config: { type: 'position', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.001', leverage: 2 } });
      expect(ex.status, JSON.stringify(ex.body)).toBe(201);

      const del = expectError(await s.call('DELETE', '/accounts/busy_desk'), 409, 'CONFLICT');
      expect(del.details).toMatchObject({ account_name: 'busy_desk', open_orders: 1, active_executors: 1, open_positions: 1, running_bots: 0 });
      expect(del.hint).toMatch(/POST \/executors\/\{executor_id\}\/stop/);
      const remove = expectError(await s.call('PUT', '/accounts/busy_desk', { remove_connectors: ['sim_perpetual'] }), 409, 'CONFLICT');
      expect(remove.details).toMatchObject({ connectors: ['sim_perpetual'], open_orders: 0, active_executors: 1, open_positions: 1 });
      expect((await s.call('GET', '/accounts/busy_desk/balances')).body.connectors).toHaveLength(2);

      // Once the executor closed its position and the order is canceled, the account goes.
      expect((await s.call('POST', `/executors/${ex.body.executor.executor_id}/stop`, {})).status).toBe(200);
      await waitFor('the executor to end', async () => ((await s.call('GET', `/executors/${ex.body.executor.executor_id}`)).body.executor.status === 'terminated' ? true : undefined), { timeoutMs: 15_000, everyMs: 100 });
      expect((await s.call('DELETE', `/trading/orders/${rest.body.order.order_id}?account_name=busy_desk`)).status).toBeLessThan(300);
      expect((await s.call('PUT', '/accounts/busy_desk', { remove_connectors: ['sim_perpetual'] })).status).toBe(200);
      expect((await s.call('DELETE', '/accounts/busy_desk')).status).toBe(200);
    });

    it('an executor created while its account is deleted is either refused or refuses the delete: never left on a deleted account', async () => {
      const outcomes = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const name = `race_desk_${i}`;
        expect((await s.call('POST', '/accounts', { account_name: name, connectors: [{ connector_name: 'sim_perpetual', paper_balances: { USDT: '10000' } }] })).status).toBe(201);
        const [del, ex] = await Promise.all([
          s.call('DELETE', `/accounts/${name}`),
          s.call('POST', '/executors', { account_name: name, executor_config: { type: 'position', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.001', leverage: 2 } }),
        ]);
        outcomes.add(`${del.status}/${ex.status}`);
        if (del.status === 200) {
          expect(ex.status, JSON.stringify(ex.body)).toBeGreaterThanOrEqual(400);
          const left = await s.call('GET', `/executors?account_name=${name}&status=running`);
          expect(left.body.data ?? []).toEqual([]);
        } else {
          expect(del.status).toBe(409);
          expect(ex.status).toBe(201);
          await s.call('POST', `/executors/${ex.body.executor.executor_id}/stop`, {});
          await waitFor('the executor to end', async () => ((await s.call('GET', `/executors/${ex.body.executor.executor_id}`)).body.executor.status === 'terminated' ? true : undefined), { timeoutMs: 15_000, everyMs: 100 });
          expect((await s.call('DELETE', `/accounts/${name}`)).status).toBe(200);
        }
      }
      expect([...outcomes].every((o) => ['200/404', '200/400', '409/201', '200/412'].includes(o)), [...outcomes].join(' ')).toBe(true);
    });

    it('deletes the account', async () => {
      const r = await s.call('DELETE', '/accounts/alice');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ account_name: 'alice', deleted: true });
      expectError(await s.call('GET', '/accounts/alice/balances'), 404, 'NOT_FOUND');
      expectError(await s.call('DELETE', '/accounts/alice'), 404, 'NOT_FOUND');
      expectError(await s.call('PUT', '/accounts/alice', { connectors: [{ connector_name: 'sim' }] }), 404, 'NOT_FOUND');
      const list = await s.call('GET', '/accounts');
      expect(list.body.data.map((a: { account_name: string }) => a.account_name)).toEqual(['master_account']);
    });

    it('refuses to delete master_account with 412 PRECONDITION_FAILED', async () => {
      const e = expectError(await s.call('DELETE', '/accounts/master_account'), 412, 'PRECONDITION_FAILED');
      expect(e.hint).toBeTruthy();
      expect((await s.call('GET', '/accounts/master_account/balances')).status).toBe(200);
    });
  });

  describe('connectors', () => {
    /** Walks every page of a list and returns the items in order. */
    async function walk(path: string, limit: number): Promise<Array<Record<string, any>>> {
      const items: Array<Record<string, any>> = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 1000; pages++) {
        const sep = path.includes('?') ? '&' : '?';
        const r = await s.call('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.data.length).toBeLessThanOrEqual(limit);
        expect(r.body.pagination.limit).toBe(limit);
        items.push(...r.body.data);
        if (!r.body.pagination.has_more) {
          expect(r.body.pagination.next_cursor).toBeNull();
          return items;
        }
        expect(r.body.data.length).toBe(limit);
        cursor = r.body.pagination.next_cursor;
        expect(typeof cursor).toBe('string');
      }
      throw new Error('pagination did not end');
    }

    it('lists sim connectors with a kind filter', async () => {
      const r = await s.call('GET', '/connectors?kind=sim');
      expect(r.status).toBe(200);
      expect(r.body.data.map((c: { name: string }) => c.name)).toEqual(['sim', 'sim_perpetual']);
      expect(r.body.data[0]).toEqual({
        name: 'sim',
        kind: 'sim',
        exchange: 'sim',
        market_type: 'spot',
        offline: true,
        requires_credentials: false,
        credential_fields: [],
        display_name: expect.any(String),
        website: null,
      });
    });

    it('walks every page with no duplicates and the same items whatever the page size', async () => {
      const small = await walk('/connectors', 97);
      const big = await walk('/connectors', 1000);
      const names = small.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      expect(names.length).toBeGreaterThan(97);
      expect(names).toEqual(big.map((c) => c.name));
      expect(names).toEqual(expect.arrayContaining(['sim', 'sim_perpetual', 'binance', 'binance_paper_trade', 'binance_perpetual', 'binance_perpetual_paper_trade']));
    });

    it('combines filters, and pages through the filtered list', async () => {
      const items = await walk('/connectors?kind=paper&market_type=perpetual', 10);
      expect(items.length).toBeGreaterThan(10);
      for (const c of items) {
        expect(c.kind).toBe('paper');
        expect(c.market_type).toBe('perpetual');
        expect(c.name).toMatch(/_perpetual_paper_trade$/);
        expect(c.requires_credentials).toBe(false);
      }
      expect(new Set(items.map((c) => c.name)).size).toBe(items.length);
    });

    it('searches by name, case-insensitively', async () => {
      const r = await s.call('GET', '/connectors?search=BINANCE&kind=exchange&market_type=spot');
      expect(r.status).toBe(200);
      const names = r.body.data.map((c: { name: string }) => c.name);
      expect(names).toContain('binance');
      for (const c of r.body.data) expect(`${c.name} ${c.display_name}`.toLowerCase()).toContain('binance');
      const none = await s.call('GET', '/connectors?search=zzzz-no-such');
      expect(none.body).toEqual({ data: [], pagination: { limit: 100, has_more: false, next_cursor: null } });
    });

    it('gets sim and binance', async () => {
      const sim = await s.call('GET', '/connectors/sim');
      expect(sim.status).toBe(200);
      expect(sim.body).toMatchObject({ name: 'sim', kind: 'sim', offline: true, market_type: 'spot' });
      const binance = await s.call('GET', '/connectors/binance');
      expect(binance.status).toBe(200);
      expect(binance.body).toMatchObject({ name: 'binance', kind: 'exchange', exchange: 'binance', offline: false, requires_credentials: true });
      expect(binance.body.credential_fields).toEqual(expect.arrayContaining(['api_key', 'secret']));
      const paper = await s.call('GET', '/connectors/binance_paper_trade');
      expect(paper.body).toMatchObject({ kind: 'paper', requires_credentials: false, credential_fields: [] });
    });

    it('an unknown connector is 404 with a hint naming close matches', async () => {
      const e = expectError(await s.call('GET', '/connectors/binanse'), 404, 'NOT_FOUND');
      expect(e.hint).toContain('binance');
      expect(e.details).toEqual({ connector_name: 'binanse' });
      const e2 = expectError(await s.call('GET', '/connectors/qqqqqq'), 404, 'NOT_FOUND');
      expect(e2.hint).toMatch(/GET \/connectors/);
    });

    it('serves the trading rules for sim', async () => {
      const r = await s.call('GET', '/connectors/sim/trading-rules');
      expect(r.status).toBe(200);
      expect(r.body.connector_name).toBe('sim');
      expect(r.body.data.map((m: { trading_pair: string }) => m.trading_pair).sort()).toEqual(['BTC-USDT', 'ETH-BTC', 'ETH-USDT', 'SOL-USDT']);
      const ethBtc = r.body.data.find((m: { trading_pair: string }) => m.trading_pair === 'ETH-BTC');
      expect(ethBtc).toEqual({
        trading_pair: 'ETH-BTC',
        min_order_size: 0.0001,
        max_order_size: 100000,
        min_price_increment: 0.00001,
        min_base_amount_increment: 0.0001,
        min_notional_size: 0.0001,
        max_leverage: null,
        supported_order_types: ['market', 'limit', 'limit_maker'],
      });
      const two = await s.call('GET', '/connectors/sim/trading-rules?trading_pairs=BTC-USDT,SOL-USDT');
      expect(two.body.data.map((m: { trading_pair: string }) => m.trading_pair)).toEqual(['BTC-USDT', 'SOL-USDT']);
      const repeated = await s.call('GET', '/connectors/sim/trading-rules?trading_pairs=BTC-USDT&trading_pairs=ETH-USDT');
      expect(repeated.body.data.map((m: { trading_pair: string }) => m.trading_pair)).toEqual(['BTC-USDT', 'ETH-USDT']);
      const perp = await s.call('GET', '/connectors/sim_perpetual/trading-rules?trading_pairs=BTC-USDT');
      expect(perp.body.data[0].max_leverage).toBe(125);
    });

    it('an unlisted pair in trading-rules is 404 naming it', async () => {
      const e = expectError(await s.call('GET', '/connectors/sim/trading-rules?trading_pairs=BTC-USDT,DOGE-USDT'), 404, 'NOT_FOUND');
      expect(e.details).toEqual({ missing: ['DOGE-USDT'] });
    });

    it('lists the perpetual markets of sim_perpetual', async () => {
      const r = await s.call('GET', '/connectors/sim_perpetual/markets');
      expect(r.status).toBe(200);
      expect(r.body.connector_name).toBe('sim_perpetual');
      expect(r.body.data).toEqual([
        { trading_pair: 'BTC-USDT', base: 'BTC', quote: 'USDT', market_type: 'perpetual', active: true },
        { trading_pair: 'ETH-USDT', base: 'ETH', quote: 'USDT', market_type: 'perpetual', active: true },
        { trading_pair: 'SOL-USDT', base: 'SOL', quote: 'USDT', market_type: 'perpetual', active: true },
      ]);
      const page = await s.call('GET', '/connectors/sim_perpetual/markets?limit=2&cursor=2');
      expect(page.body.data.map((m: { trading_pair: string }) => m.trading_pair)).toEqual(['SOL-USDT']);
      expect(page.body.pagination).toEqual({ limit: 2, has_more: false, next_cursor: null });
      const btc = await s.call('GET', '/connectors/sim/markets?search=btc');
      expect(btc.body.data.map((m: { trading_pair: string }) => m.trading_pair)).toEqual(['BTC-USDT', 'ETH-BTC']);
    });

    it('markets of an unknown connector is 404', async () => {
      expectError(await s.call('GET', '/connectors/nosuchexchange/markets'), 404, 'NOT_FOUND');
    });
  });

  describe('HTTP conventions', () => {
    it('an unknown route is a 404 JSON error', async () => {
      const e = expectError(await s.call('GET', '/no/such/route'), 404, 'NOT_FOUND');
      expect(e.message).toContain('/no/such/route');
      expectError(await s.call('PATCH', '/accounts/master_account', {}), 404, 'NOT_FOUND');
      expectError(await s.call('POST', '/connectors', {}), 404, 'NOT_FOUND');
    });

    it('malformed JSON is 400 VALIDATION_FAILED', async () => {
      const e = expectError(await s.call('POST', '/accounts', '{"account_name": "x",'), 400, 'VALIDATION_FAILED');
      expect(e.details!.issues![0]!.path).toBe('(body)');
    });

    it('a JSON body that is not an object is 400', async () => {
      for (const body of ['[1,2]', '"text"', '42', 'null']) {
        const e = expectError(await s.call('POST', '/accounts', body), 400, 'VALIDATION_FAILED');
        expect(e.details!.issues!.length).toBeGreaterThan(0);
      }
    });

    it('a body over 256kb is 413 PAYLOAD_TOO_LARGE', async () => {
      const e = expectError(await s.call('POST', '/accounts', { account_name: 'big', pad: 'x'.repeat(300 * 1024) }), 413, 'PAYLOAD_TOO_LARGE');
      expect(e.retryable).toBe(false);
      const list = await s.call('GET', '/accounts');
      expect(list.body.data.map((a: { account_name: string }) => a.account_name)).not.toContain('big');
    });

    it('a body just under the limit is parsed (and then validated)', async () => {
      const e = expectError(await s.call('POST', '/accounts', { account_name: 'big', pad: 'x'.repeat(200 * 1024) }), 400, 'VALIDATION_FAILED');
      expect(e.details!.issues!.some((i: { message: string }) => i.message.includes('pad'))).toBe(true);
    });

    it('echoes a given X-Request-Id on success and in error bodies', async () => {
      const ok = await fetch(`${s.url}/accounts`, { headers: { authorization: ADMIN_AUTH, 'x-request-id': 'client-req-0001' } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-request-id')).toBe('client-req-0001');
      const bad = await fetch(`${s.url}/connectors/nope_nope`, { headers: { authorization: ADMIN_AUTH, 'x-request-id': 'client-req-0002' } });
      expect(bad.headers.get('x-request-id')).toBe('client-req-0002');
      expect(((await bad.json()) as { error: { request_id: string } }).error.request_id).toBe('client-req-0002');
      const unauth = await fetch(`${s.url}/accounts`, { headers: { 'x-request-id': 'client-req-0003' } });
      expect(unauth.status).toBe(401);
      expect(((await unauth.json()) as { error: { request_id: string } }).error.request_id).toBe('client-req-0003');
    });

    it('generates an X-Request-Id when none (or an unsafe one) is given', async () => {
      const r = await s.call('GET', '/nothing-here');
      const id = r.headers.get('x-request-id');
      expect(id).toMatch(UUID);
      expect(r.body.error.request_id).toBe(id);
      const unsafe = await fetch(`${s.url}/nothing-here`, { headers: { authorization: ADMIN_AUTH, 'x-request-id': 'bad id <script>' } });
      expect(unsafe.headers.get('x-request-id')).toMatch(UUID);
      const long = await fetch(`${s.url}/nothing-here`, { headers: { authorization: ADMIN_AUTH, 'x-request-id': 'a'.repeat(129) } });
      expect(long.headers.get('x-request-id')).toMatch(UUID);
      const a = (await s.call('GET', '/accounts')).headers.get('x-request-id');
      const b = (await s.call('GET', '/accounts')).headers.get('x-request-id');
      expect(a).not.toBe(b);
    });

    it('every error class answers the same JSON shape', async () => {
      const cases: Array<[Promise<Res>, number, string]> = [
        [s.call('GET', '/accounts', undefined, null), 401, 'UNAUTHENTICATED'],
        [s.call('GET', '/accounts?limit=0'), 400, 'VALIDATION_FAILED'],
        [s.call('GET', '/accounts/nobody/balances'), 404, 'NOT_FOUND'],
        [s.call('POST', '/accounts', { account_name: 'master_account' }), 409, 'CONFLICT'],
        [s.call('DELETE', '/accounts/master_account'), 412, 'PRECONDITION_FAILED'],
        [s.call('POST', '/accounts', { account_name: 'x', pad: 'y'.repeat(300_000) }), 413, 'PAYLOAD_TOO_LARGE'],
        [s.call('GET', '/connectors/binance/markets'), 503, 'UPSTREAM_UNAVAILABLE'],
      ];
      for (const [p, status, code] of cases) expectError(await p, status, code);
    });

    it('successful responses are JSON without framework fingerprints', async () => {
      const r = await s.call('GET', '/accounts');
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.headers.get('x-powered-by')).toBeNull();
      expect(r.headers.get('etag')).toBeNull();
    });
  });
});
