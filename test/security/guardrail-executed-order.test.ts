import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, mcpCall as mcp, mcpClient } from '../helpers/mcp-call.js';
import { basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { ManualClock } from '../../src/core/clock.js';

/**
 * The guards judge the order the engine will execute, not the digits it was sent with (sub-step dust
 * is one order), and a confirmation token is judged before anything else, so its misuse is answered
 * as such.
 */
const TRADER = basicHeader('dora', 'trader-password-1');

describe.each(drivers())('the order as executed, and confirmation tokens first, on %s', (driver) => {
  let s: TestServer;
  let client: Client;
  const PINNED = Date.UTC(2026, 6, 1, 12, 0, 0, 0);
  const clock = new ManualClock(PINNED);
  let ask = 0;

  const order = (account: string, extra: Record<string, unknown> = {}) => ({ account_name: account, connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001', ...extra });
  const place = (body: Record<string, unknown>) => s.call('POST', '/trading/orders', body, TRADER);
  const preview = (body: Record<string, unknown>) => s.call('POST', '/trading/orders/preview', body, TRADER);
  async function account(name: string, p: Record<string, unknown>): Promise<void> {
    const made = await s.call('POST', '/accounts', { account_name: name, connectors: [{ connector_name: 'sim', paper_balances: { USDT: '1000000', BTC: '10' } }] });
    expect(made.status, made.text).toBe(201);
    const r = await s.call('PUT', `/accounts/${name}/policy`, p);
    expect(r.status, r.text).toBe(200);
  }
  /** A preview's token for `body`, which must need one. */
  async function tokenFor(body: Record<string, unknown>): Promise<string> {
    const p = await preview(body);
    expect(p.status, p.text).toBe(200);
    expect(p.body.confirmation_required).toBe(true);
    expect(typeof p.body.confirmation_token).toBe('string');
    return p.body.confirmation_token;
  }

  beforeAll(async () => {
    // The clock is pinned so the price does not move between a preview and its order.
    s = await testServer(driver, {}, { clock });
    expect((await s.call('POST', '/users', { username: 'dora', password: 'trader-password-1', role: 'trader' })).status).toBe(201);
    client = await mcpClient(s.url, TRADER, 'executed-order');
    ask = (await (await s.services.connectors.get('sim')).fetchOrderBook('BTC-USDT', 1)).asks[0]!.price;
  });
  beforeEach(() => {
    clock.set(PINNED);
  });
  afterAll(async () => {
    await client?.close();
    await s?.stop();
  });

  describe('the duplicate window fingerprints the quantised order', () => {
    it('an amount with sub-step dust is the same order, over REST and MCP', async () => {
      await account('dust_amount', { duplicate_window_seconds: 60 });
      expect(codeOf(await place(order('dust_amount', { amount: '0.001' })))).toBe('ok');
      // The BTC-USDT step is 0.00001: each of these executes as 0.001.
      expect(codeOf(await place(order('dust_amount', { amount: '0.0010001' })))).toBe('DUPLICATE_ORDER');
      expect(codeOf(await mcp(client, 'trading_place_order', order('dust_amount', { amount: '0.00100999' })))).toBe('DUPLICATE_ORDER');
      // One more step is another order.
      expect(codeOf(await place(order('dust_amount', { amount: '0.00101' })))).toBe('ok');
    });

    it('a limit price with sub-tick dust is the same order', async () => {
      await account('dust_price', { duplicate_window_seconds: 60 });
      const price = (Math.floor(ask / 2) + 0.37).toFixed(2);
      expect(codeOf(await place(order('dust_price', { order_type: 'limit', price })))).toBe('ok');
      // The tick is 0.01 and a buy's price rounds down: this is the same resting order.
      expect(codeOf(await place(order('dust_price', { order_type: 'limit', price: `${price}9` })))).toBe('DUPLICATE_ORDER');
      expect(codeOf(await mcp(client, 'trading_place_order', order('dust_price', { order_type: 'limit', price: `${price}001`, amount: '0.0010009' })))).toBe('DUPLICATE_ORDER');
    });

    it('a confirmation token binds the order as executed: dust in the preview or the order does not break it', async () => {
      await account('dust_token', { confirm_above_notional: '100' });
      const amount = (200 / ask).toFixed(5);
      const token = await tokenFor(order('dust_token', { amount: `${amount}7` }));
      const r = await place({ ...order('dust_token', { amount }), confirmation_token: token });
      expect(r.status, r.text).toBe(201);
      const again = await tokenFor(order('dust_token', { amount }));
      expect(codeOf(await mcp(client, 'trading_place_order', { ...order('dust_token', { amount: `${amount}3` }), confirmation_token: again }))).toBe('ok');
    });
  });

  describe('a confirmation token is checked before the other guards', () => {
    it('a reused token is CONFIRMATION_REUSED even when the rate limit would also refuse the order', async () => {
      await account('reuse_rate', { confirm_above_notional: '100', max_orders_per_minute: 1 });
      const body = order('reuse_rate', { amount: (200 / ask).toFixed(5) });
      const token = await tokenFor(body);
      expect(codeOf(await place({ ...body, confirmation_token: token }))).toBe('ok');
      const reused = await place({ ...body, confirmation_token: token });
      expect(reused.status).toBe(409);
      expect(codeOf(reused)).toBe('CONFIRMATION_REUSED');
      expect(codeOf(await mcp(client, 'trading_place_order', { ...body, confirmation_token: token }))).toBe('CONFIRMATION_REUSED');
    });

    it('a reused token is CONFIRMATION_REUSED even when the 24 h budget would also refuse the order', async () => {
      await account('reuse_budget', { confirm_above_notional: '100', max_daily_notional: '300' });
      const body = order('reuse_budget', { amount: (200 / ask).toFixed(5) });
      const token = await tokenFor(body);
      expect(codeOf(await place({ ...body, confirmation_token: token }))).toBe('ok');
      expect(codeOf(await place({ ...body, confirmation_token: token }))).toBe('CONFIRMATION_REUSED');
    });

    it('an expired token and another order\'s token are named as such, not as the limit the order also meets', async () => {
      await account('token_first', { confirm_above_notional: '100', max_orders_per_minute: 1 });
      const body = order('token_first', { amount: (200 / ask).toFixed(5) });
      const stale = await tokenFor(body);
      // Half a minute later the rate limit (1 a minute) is spent: every further order would be RATE_LIMITED.
      clock.advance(30_000);
      const other = await tokenFor(order('token_first', { amount: (300 / ask).toFixed(5) }));
      expect(codeOf(await place({ ...body, confirmation_token: await tokenFor(body) }))).toBe('ok');
      expect(codeOf(await place({ ...body, confirmation_token: other }))).toBe('CONFIRMATION_MISMATCH');
      // The first token has expired; the order that spent the rate limit is still inside its minute.
      clock.advance(31_000);
      expect(codeOf(await place({ ...body, confirmation_token: stale }))).toBe('CONFIRMATION_EXPIRED');
      expect(codeOf(await place(body))).toBe('RATE_LIMITED');
    });

    it('an order refused by another guard does not burn its token; the token still works only once', async () => {
      await account('not_burnt', { confirm_above_notional: '100' });
      const body = order('not_burnt', { amount: (200 / ask).toFixed(5) });
      const token = await tokenFor(body);
      expect(codeOf(await s.call('POST', '/safety/kill-switch', { account_name: 'not_burnt', reason: 'pause' }, TRADER))).toBe('ok');
      expect(codeOf(await place({ ...body, confirmation_token: token }))).toBe('KILL_SWITCH_ACTIVE');
      expect(codeOf(await s.call('POST', '/safety/kill-switch/clear', { account_name: 'not_burnt' }))).toBe('ok');
      expect(codeOf(await place({ ...body, confirmation_token: token }))).toBe('ok');
      expect(codeOf(await place({ ...body, confirmation_token: token }))).toBe('CONFIRMATION_REUSED');
    });

    it('confirmation_token: null, as a preview answers when none is needed, means no token on both faces', async () => {
      await account('null_token', { confirm_above_notional: '100' });
      const small = order('null_token', { amount: '0.0001' });
      const p = await preview(small);
      expect(p.body.confirmation_token).toBeNull();
      expect(codeOf(await place({ ...small, confirmation_token: p.body.confirmation_token }))).toBe('ok');
      expect(codeOf(await mcp(client, 'trading_place_order', { ...small, amount: '0.00011', confirmation_token: null }))).toBe('ok');
      // A null token confirms nothing.
      const big = order('null_token', { amount: (200 / ask).toFixed(5) });
      expect(codeOf(await place({ ...big, confirmation_token: null }))).toBe('CONFIRMATION_REQUIRED');
      expect(codeOf(await mcp(client, 'trading_place_order', { ...big, confirmation_token: null }))).toBe('CONFIRMATION_REQUIRED');
    });
  });
});
