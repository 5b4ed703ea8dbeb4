import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/cli.js';
import { createLogger } from '../../src/core/logger.js';
import { placeholderFor } from '../../src/mcp/untrusted.js';
import { codeOf, mcpCall as mcp, mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, basicHeader, drivers, httpJson, testServer, type HttpAnswer, type TestServer } from '../helpers/test-env.js';

const TRADER = basicHeader('tina', 'trader-password-1');
const TRADER2 = basicHeader('tom', 'trader-password-2');
const VIEWER = basicHeader('vic', 'viewer-password-1');
/** The sim clock is pinned so that every order of a test is valued at the same price. */
const PINNED = Date.UTC(2026, 5, 1, 12, 0, 0, 0);

/** The adversarial guardrail checks: every way an agent could push past a limit, over both faces. */
describe.each(drivers())('guardrails on %s', (driver) => {
  let s: TestServer;
  let clock = Date.now();
  let client: Client;
  let ask = 0;
  let bid = 0;

  const order = (account: string, extra: Record<string, unknown> = {}) => ({ account_name: account, connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.01', ...extra });
  const place = (body: Record<string, unknown>, auth = TRADER) => s.call('POST', '/trading/orders', body, auth);
  const policy = (account: string, p: Record<string, unknown>) => s.call('PUT', `/accounts/${account}/policy`, p);
  const orderCount = async (account: string) =>
    ((await s.services.db.execute(sql`select count(*)::int as n from orders where account_name = ${account}`)) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n;

  async function account(name: string, p: Record<string, unknown> = {}): Promise<void> {
    const made = await s.call('POST', '/accounts', {
      account_name: name,
      connectors: [
        { connector_name: 'sim', paper_balances: { USDT: '1000000', BTC: '10', ETH: '100' } },
        { connector_name: 'sim_perpetual', paper_balances: { USDT: '1000000' } },
      ],
    });
    expect(made.status, made.text).toBe(201);
    if (Object.keys(p).length) expect((await policy(name, p)).status).toBe(200);
  }

  beforeAll(async () => {
    s = await testServer(driver, {}, { simNow: () => PINNED, tokenClock: () => clock });
    for (const [u, p, r] of [['tina', 'trader-password-1', 'trader'], ['tom', 'trader-password-2', 'trader'], ['vic', 'viewer-password-1', 'viewer']]) {
      expect((await s.call('POST', '/users', { username: u, password: p, role: r })).status).toBe(201);
    }
    client = await mcpClient(s.url, TRADER, 'guardrails');
    const t = (await s.call('GET', '/market-data/ticker/BTC-USDT?connector_name=sim')).body;
    ask = t.ask;
    bid = t.bid;
  });
  afterAll(async () => {
    await client?.close();
    await s?.stop();
  });

  describe('policy is an admin REST matter', () => {
    it('a new account starts in paper mode, and a live exchange is refused to it', async () => {
      await s.call('POST', '/accounts', { account_name: 'fresh', connectors: [{ connector_name: 'binance', credentials: { api_key: 'k'.repeat(20), secret: 's'.repeat(20) } }] });
      const st = (await s.call('GET', '/safety/status?account_name=fresh', undefined, TRADER)).body;
      expect(st.accounts[0].policy.mode).toBe('paper');
      const r = await place(order('fresh', { connector_name: 'binance' }));
      expect(r.status).toBe(403);
      expect(r.body.error).toMatchObject({ code: 'POLICY_DENIED', details: { check: 'live_mode' } });
      expect(await orderCount('fresh')).toBe(0);
    });

    it('switching to live needs a per-order cap decision: a number or an explicit "none"', async () => {
      const none = await policy('fresh', { mode: 'live' });
      expect(none.status).toBe(400);
      expect(none.body.error.details.issues[0].path).toBe('max_order_notional');
      expect((await policy('fresh', { mode: 'live', max_order_notional: null })).status).toBe(400);
      expect((await s.call('GET', '/safety/status?account_name=fresh')).body.accounts[0].policy.mode).toBe('paper');
      const explicit = await policy('fresh', { mode: 'live', max_order_notional: 'none' });
      expect(explicit.status).toBe(200);
      expect(explicit.body).toMatchObject({ mode: 'live', max_order_notional: null, order_cap_decided: true, updated_by: 'admin' });
      const capped = await policy('fresh', { max_order_notional: '250' });
      expect(capped.body).toMatchObject({ mode: 'live', max_order_notional: 250 });
      // A live account cannot go back to an undecided cap.
      expect((await policy('fresh', { max_order_notional: null })).status).toBe(400);
    });

    it('neither a trader over REST nor any agent over MCP can change a policy or clear a kill switch', async () => {
      expect(codeOf(await s.call('PUT', '/accounts/fresh/policy', { mode: 'paper' }, TRADER))).toBe('POLICY_DENIED');
      expect(codeOf(await s.call('POST', '/safety/kill-switch/clear', {}, TRADER))).toBe('POLICY_DENIED');
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      expect(names).not.toContain('safety_update_policy');
      expect(names).not.toContain('safety_clear_kill_switch');
      for (const [name, args] of [['safety_update_policy', { account_name: 'fresh', mode: 'paper' }], ['safety_clear_kill_switch', {}], ['accounts_update_account', { account_name: 'fresh', remove_connectors: ['binance'] }], ['users_create_user', { username: 'evil', password: 'a-long-password', role: 'admin' }]] as const) {
        const r = await mcp(client, name, args);
        expect(r.ok ? 'ok' : r.code, name).toBe('POLICY_DENIED');
      }
      expect((await s.call('GET', '/safety/status?account_name=fresh')).body.accounts[0].policy.mode).toBe('live');
    });

    it('the default MCP tool list stays within 30 tools and holds the safety tools', async () => {
      const { tools } = await client.listTools();
      expect(tools.length).toBeLessThanOrEqual(30);
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['safety_get_status', 'safety_set_kill_switch', 'trading_preview_order', 'audit_search_events']));
    });
  });

  describe('caps', () => {
    it('the per-order cap is valued from the live quote, whatever price a limit order names', async () => {
      await account('capped', { max_order_notional: '1000' });
      const under = (900 / ask).toFixed(5);
      const over = (1100 / ask).toFixed(5);
      expect(codeOf(await place(order('capped', { amount: under })))).toBe('ok');
      const r = await place(order('capped', { amount: over }));
      expect(r.status).toBe(403);
      expect(r.body.error).toMatchObject({ code: 'RISK_LIMIT_EXCEEDED', details: { check: 'max_order_notional', limit: '1000' } });
      // A limit buy at a tiny price is still worth at least amount × ask.
      expect(codeOf(await place(order('capped', { amount: over, order_type: 'limit', price: '1' })))).toBe('RISK_LIMIT_EXCEEDED');
      // A sell limit far above the market is worth amount × its price.
      expect(codeOf(await place(order('capped', { side: 'sell', amount: under, order_type: 'limit', price: String(Math.round(bid * 2)) })))).toBe('RISK_LIMIT_EXCEEDED');
      expect(await orderCount('capped')).toBe(1);
    });

    it('quote-size side channels are refused: cost, quote amounts, exchange params', async () => {
      const before = await orderCount('capped');
      for (const extra of [{ cost: '5000' }, { quote_amount: '5000' }, { quoteOrderQty: '5000' }, { params: { quoteOrderQty: '5000' } }, { params: { cost: 5000 } }]) {
        const r = await place(order('capped', { amount: '0.0001', ...extra }));
        expect(r.status, JSON.stringify(extra)).toBe(400);
        expect(r.body.error.code).toBe('VALIDATION_FAILED');
        const m = await mcp(client, 'trading_place_order', order('capped', { amount: '0.0001', ...extra }));
        expect(m.ok ? 'ok' : m.code).toBe('VALIDATION_FAILED');
      }
      const noAmount = await place({ ...order('capped', { cost: '5000' }), amount: undefined });
      expect(noAmount.body.error.details.issues.map((i: { path: string }) => i.path)).toContain('amount');
      expect(await orderCount('capped')).toBe(before);
    });

    it('many small orders cannot pass the 24 h cap, and the remaining budget is reported', async () => {
      await account('daily', { max_daily_notional: '1000' });
      const amount = (300 / ask).toFixed(5);
      const codes: string[] = [];
      for (let i = 0; i < 5; i++) codes.push(codeOf(await place(order('daily', { amount }))));
      expect(codes).toEqual(['ok', 'ok', 'ok', 'RISK_LIMIT_EXCEEDED', 'RISK_LIMIT_EXCEEDED']);
      const st = (await s.call('GET', '/safety/status?account_name=daily', undefined, TRADER)).body.accounts[0];
      expect(st.used_24h_notional).toBeGreaterThan(890);
      expect(st.used_24h_notional).toBeLessThanOrEqual(901);
      expect(st.remaining_24h_notional).toBeCloseTo(1000 - st.used_24h_notional, 1);
      // Sells are not exits on spot: they spend the same budget.
      expect(codeOf(await place(order('daily', { side: 'sell', amount })))).toBe('RISK_LIMIT_EXCEEDED');
    });

    it('20 concurrent orders that together exceed the 24 h cap: exactly as many as fit get through', async () => {
      await account('race');
      const amount = '0.002';
      const preview = (await s.call('POST', '/trading/orders/preview', order('race', { amount }), TRADER)).body;
      const each = preview.notional_usdt as number;
      // Room for exactly 7 orders, and half of an eighth.
      expect((await policy('race', { max_daily_notional: (each * 7.5).toFixed(6) })).status).toBe(200);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? place(order('race', { amount }), TRADER) : mcp(client, 'trading_place_order', order('race', { amount })).then((m) => ({ status: m.ok ? 201 : 403, body: m.ok ? m.output : { error: m.error } }) as HttpAnswer))),
      );
      const ok = results.filter((r) => r.status === 201);
      expect(ok.length).toBe(7);
      expect(results.filter((r) => r.status !== 201).every((r) => r.body.error.code === 'RISK_LIMIT_EXCEEDED')).toBe(true);
      expect(await orderCount('race')).toBe(7);
      const spent = (await s.call('GET', '/safety/status?account_name=race')).body.accounts[0].used_24h_notional;
      expect(spent).toBeLessThanOrEqual(each * 7.5);
    });

    it('the position cap counts what is already held; a position may always shrink', async () => {
      await account('pos', { max_position_notional: '5000' });
      const perp = { connector_name: 'sim_perpetual' };
      const amount = (3000 / ask).toFixed(4);
      expect(codeOf(await place(order('pos', { ...perp, amount })))).toBe('ok');
      const r = await place(order('pos', { ...perp, amount }));
      expect(r.body.error).toMatchObject({ code: 'RISK_LIMIT_EXCEEDED', details: { check: 'max_position_notional' } });
      expect(codeOf(await place(order('pos', { ...perp, side: 'sell', amount: (1000 / bid).toFixed(4) })))).toBe('ok');
    });

    it('the leverage cap and the pair lists hold for orders, leverage changes and closes', async () => {
      await account('pairs', { max_leverage: 3, denied_pairs: ['ETH-*'] });
      const perp = { connector_name: 'sim_perpetual' };
      expect(codeOf(await s.call('POST', '/trading/leverage', { account_name: 'pairs', ...perp, trading_pair: 'BTC-USDT', leverage: 5 }, TRADER))).toBe('RISK_LIMIT_EXCEEDED');
      expect(codeOf(await place(order('pairs', { ...perp, leverage: 5 })))).toBe('RISK_LIMIT_EXCEEDED');
      expect(codeOf(await s.call('POST', '/trading/leverage', { account_name: 'pairs', ...perp, trading_pair: 'ETH-USDT', leverage: 2 }, TRADER))).toBe('POLICY_DENIED');
      const viaMcp = await mcp(client, 'trading_set_leverage', { account_name: 'pairs', ...perp, trading_pair: 'ETH-USDT', leverage: 2 });
      expect(viaMcp.ok ? 'ok' : viaMcp.code).toBe('POLICY_DENIED');
      expect(codeOf(await place(order('pairs', { trading_pair: 'ETH-USDT', amount: '0.1' })))).toBe('POLICY_DENIED');
      expect(codeOf(await place(order('pairs', { trading_pair: 'eth-usdt', amount: '0.1' })))).toBe('VALIDATION_FAILED');
      // An ETH position opened before the deny list is out of the agent's scope: even its close is refused.
      await policy('pairs', { denied_pairs: [] });
      expect(codeOf(await place(order('pairs', { ...perp, trading_pair: 'ETH-USDT', amount: '0.1' })))).toBe('ok');
      await policy('pairs', { denied_pairs: ['ETH-*'] });
      expect(codeOf(await s.call('POST', '/trading/close-position', { account_name: 'pairs', ...perp, trading_pair: 'ETH-USDT' }, TRADER))).toBe('POLICY_DENIED');
      // An allow list fails closed: only what it names.
      await policy('pairs', { denied_pairs: [], allowed_pairs: ['SOL-*'] });
      expect(codeOf(await place(order('pairs', { amount: '0.001' })))).toBe('POLICY_DENIED');
      expect(codeOf(await s.call('POST', '/trading/leverage', { account_name: 'pairs', ...perp, trading_pair: 'SOL-USDT', leverage: 2 }, TRADER))).toBe('ok');
    });

    it('an order rate limit and a duplicate window; a client_order_id retry is not a duplicate', async () => {
      await account('rate', { max_orders_per_minute: 3, duplicate_window_seconds: 60 });
      const a = order('rate', { amount: '0.001', client_order_id: 'r-1' });
      expect(codeOf(await place(a))).toBe('ok');
      const retry = await place(a);
      expect(retry.status).toBe(201);
      expect(retry.body.replayed).toBe(true);
      const dup = await place(order('rate', { amount: '0.001' }));
      expect(dup.body.error).toMatchObject({ code: 'DUPLICATE_ORDER', details: { check: 'duplicate_window' } });
      expect(codeOf(await place(order('rate', { amount: '0.002' })))).toBe('ok');
      expect(codeOf(await place(order('rate', { amount: '0.003' })))).toBe('ok');
      const fourth = await place(order('rate', { amount: '0.004' }));
      expect(fourth.status).toBe(429);
      expect(fourth.body.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    });

    it('risk-reducing actions pass every cap: cancels and closes', async () => {
      await account('reduce');
      const perp = { connector_name: 'sim_perpetual' };
      expect(codeOf(await place(order('reduce', { ...perp, amount: '0.05' })))).toBe('ok');
      const resting = await place(order('reduce', { amount: '0.01', order_type: 'limit', price: String(Math.round(bid / 2)) }));
      expect(resting.status).toBe(201);
      await policy('reduce', { max_order_notional: '1', max_daily_notional: '1', max_position_notional: '1', max_orders_per_minute: 1, mode: 'disabled' });
      expect(codeOf(await place(order('reduce', { amount: '0.0001' })))).toBe('POLICY_DENIED');
      expect(codeOf(await s.call('DELETE', `/trading/orders/${resting.body.order.order_id}`, undefined, TRADER))).toBe('ok');
      const partial = await place(order('reduce', { ...perp, side: 'sell', amount: '0.02', position_action: 'close' }));
      expect(partial.status, partial.text).toBe(201);
      const close = await s.call('POST', '/trading/close-position', { account_name: 'reduce', ...perp, trading_pair: 'BTC-USDT' }, TRADER);
      expect(close.status, close.text).toBe(201);
      // A "close" that would open the other way is not reduce-only: the engine refuses it.
      expect(codeOf(await place(order('reduce', { ...perp, side: 'sell', amount: '0.02', position_action: 'close' })))).toBe('VALIDATION_FAILED');
    });
  });

  describe('confirmations', () => {
    const big = () => (200 / ask).toFixed(5);

    it('an order above the threshold needs a confirmation, the same over REST and MCP', async () => {
      await account('confirm', { confirm_above_notional: '100' });
      const r = await place(order('confirm', { amount: big() }));
      expect(r.status).toBe(428);
      const m = await mcp(client, 'trading_place_order', order('confirm', { amount: big() }));
      expect(m.ok).toBe(false);
      if (!m.ok) expect({ code: m.error.code, hint: m.error.hint }).toEqual({ code: r.body.error.code, hint: r.body.error.hint });
      expect(codeOf(await place(order('confirm', { amount: (50 / ask).toFixed(5) })))).toBe('ok');
      // A token is not needed below the threshold, but one that is passed must still be valid.
      expect(codeOf(await place(order('confirm', { amount: (50 / ask).toFixed(5), confirmation_token: 'garbage' })))).toBe('CONFIRMATION_MISMATCH');
      // Admins are exempt; the journal still records them.
      expect(codeOf(await s.call('POST', '/trading/orders', order('confirm', { amount: big() })))).toBe('ok');
    });

    it('a preview changes nothing and returns a token that works once, for that order only', async () => {
      const body = order('confirm', { amount: big() });
      const before = await orderCount('confirm');
      const p = await mcp(client, 'trading_preview_order', body);
      expect(p.ok).toBe(true);
      if (!p.ok) return;
      expect(p.output).toMatchObject({ confirmation_required: true, would_be_refused: false, mode: 'paper', live: false });
      expect(p.output.notional_usdt).toBeGreaterThan(100);
      expect(p.output.estimated_fee).toBeGreaterThan(0);
      expect(await orderCount('confirm')).toBe(before);
      const token = p.output.confirmation_token as string;
      expect(codeOf(await place({ ...body, confirmation_token: token }))).toBe('ok');
      const replay = await place({ ...body, confirmation_token: token });
      expect(replay.status).toBe(409);
      expect(replay.body.error.code).toBe('CONFIRMATION_REUSED');
      const m = await mcp(client, 'trading_place_order', { ...body, confirmation_token: token });
      expect(m.ok ? 'ok' : m.code).toBe('CONFIRMATION_REUSED');
      expect(await orderCount('confirm')).toBe(before + 1);
    });

    it('a changed order, another principal, a forged or an expired token are refused', async () => {
      const body = order('confirm', { amount: big() });
      const token = (await s.call('POST', '/trading/orders/preview', body, TRADER)).body.confirmation_token as string;
      const before = await orderCount('confirm');
      for (const changed of [{ amount: (300 / ask).toFixed(5) }, { side: 'sell' }, { order_type: 'limit', price: String(Math.round(ask * 1.01)) }, { trading_pair: 'ETH-USDT', amount: '1' }]) {
        expect(codeOf(await place({ ...body, ...changed, confirmation_token: token })), JSON.stringify(changed)).toBe('CONFIRMATION_MISMATCH');
      }
      expect(codeOf(await place({ ...body, confirmation_token: token }, TRADER2))).toBe('CONFIRMATION_MISMATCH');
      const [v, payload] = token.split('.');
      expect(codeOf(await place({ ...body, confirmation_token: `${v}.${payload}.AAAA` }))).toBe('CONFIRMATION_MISMATCH');
      clock += 61_000;
      const expired = await place({ ...body, confirmation_token: token });
      expect(expired.body.error.code).toBe('CONFIRMATION_EXPIRED');
      expect(await orderCount('confirm')).toBe(before);
    });

    it('a threshold of 0 asks for every order; risk-reducing closes are never asked about', async () => {
      await account('always', { confirm_above_notional: 0 });
      expect(codeOf(await place(order('always', { connector_name: 'sim_perpetual', amount: '0.001' })))).toBe('CONFIRMATION_REQUIRED');
      expect(codeOf(await s.call('POST', '/trading/orders', order('always', { connector_name: 'sim_perpetual', amount: '0.01' })))).toBe('ok');
      expect(codeOf(await s.call('POST', '/trading/close-position', { account_name: 'always', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' }, TRADER))).toBe('ok');
    });

    it('a preview shows which limits would trip, and gives no token for an order that would be refused', async () => {
      await policy('confirm', { max_order_notional: '150' });
      const p = (await s.call('POST', '/trading/orders/preview', order('confirm', { amount: big() }), TRADER)).body;
      expect(p.would_be_refused).toBe(true);
      expect(p.confirmation_token).toBeNull();
      expect(p.checks.find((c: { name: string }) => c.name === 'max_order_notional')).toMatchObject({ ok: false, code: 'RISK_LIMIT_EXCEEDED' });
    });
  });

  describe('kill switch', () => {
    it('an agent sets it (cancelling open orders); it blocks opens, cancels and closes still work', async () => {
      await account('killed');
      const perp = { connector_name: 'sim_perpetual' };
      expect(codeOf(await place(order('killed', { ...perp, amount: '0.05' })))).toBe('ok');
      const resting = (await place(order('killed', { amount: '0.01', order_type: 'limit', price: String(Math.round(bid / 2)) }))).body.order;
      const keep = (await place(order('killed', { amount: '0.01', order_type: 'limit', price: String(Math.round(bid / 3)) }))).body.order;
      const set = await mcp(client, 'safety_set_kill_switch', { account_name: 'killed', reason: 'runaway loop', cancel_open_orders: true });
      expect(set.ok).toBe(true);
      if (set.ok) {
        // Over MCP a reason is fenced as untrusted text (src/mcp/untrusted.ts); REST shows it below.
        expect(set.output.kill_switch).toMatchObject({ scope: 'account', account_name: 'killed', set_by: 'tina', reason: placeholderFor(1) });
        expect(set.output.canceled_order_ids.sort()).toEqual([resting.order_id, keep.order_id].sort());
      }
      const blocked = await place(order('killed', { amount: '0.001' }));
      expect(blocked.status).toBe(423);
      expect(blocked.body.error.code).toBe('KILL_SWITCH_ACTIVE');
      const m = await mcp(client, 'trading_place_order', order('killed', { amount: '0.001' }));
      expect(m.ok ? 'ok' : m.code).toBe('KILL_SWITCH_ACTIVE');
      expect(codeOf(await s.call('POST', '/trading/leverage', { account_name: 'killed', ...perp, trading_pair: 'SOL-USDT', leverage: 2 }, TRADER))).toBe('KILL_SWITCH_ACTIVE');
      expect(codeOf(await s.call('POST', '/trading/close-position', { account_name: 'killed', ...perp, trading_pair: 'BTC-USDT', amount: '0.01' }, TRADER))).toBe('ok');
      // Other accounts trade on.
      expect(codeOf(await place(order('capped', { amount: '0.0001' })))).toBe('ok');
      const st = (await s.call('GET', '/safety/status?account_name=killed', undefined, VIEWER)).body;
      expect(st.accounts[0]).toMatchObject({ trading_blocked: true, kill_switch: { reason: 'runaway loop' } });
      expect(st.recent_denials.some((d: { code: string }) => d.code === 'KILL_SWITCH_ACTIVE')).toBe(true);
    });

    it('the global switch stops every account, survives a restart, and only an admin clears it over REST', async () => {
      expect(codeOf(await s.call('POST', '/safety/kill-switch', { reason: 'market halt' }, TRADER))).toBe('ok');
      expect(codeOf(await place(order('capped', { amount: '0.0001' })))).toBe('KILL_SWITCH_ACTIVE');
      await s.close();
      const again = await startServer(s.env.config, createLogger('silent'), { simNow: () => PINNED, tokenClock: () => clock });
      const env = s.env;
      s = {
        ...again,
        env,
        call: (method, path, body, auth) => httpJson(again.url, method, path, body, auth === undefined ? ADMIN_AUTH : auth),
        stop: async () => {
          await again.close();
          await env.cleanup();
        },
      };
      await client.close().catch(() => undefined);
      client = await mcpClient(s.url, TRADER, 'guardrails');
      expect(codeOf(await place(order('capped', { amount: '0.0001' })))).toBe('KILL_SWITCH_ACTIVE');
      expect(codeOf(await s.call('POST', '/safety/kill-switch/clear', {}, TRADER))).toBe('POLICY_DENIED');
      const cleared = await s.call('POST', '/safety/kill-switch/clear', {});
      expect(cleared.body.cleared).toMatchObject({ scope: 'global', reason: 'market halt', set_by: 'tina' });
      expect(codeOf(await place(order('capped', { amount: '0.0001' })))).toBe('ok');
      // The account switch is still on until it is cleared too.
      expect(codeOf(await place(order('killed', { amount: '0.0001' })))).toBe('KILL_SWITCH_ACTIVE');
      await s.call('POST', '/safety/kill-switch/clear', { account_name: 'killed' });
      expect(codeOf(await place(order('killed', { amount: '0.0001' })))).toBe('ok');
    });

    it('the 24 h budget survives the restart too: it is read from the journal', async () => {
      // 900 of 1000 USDT were used before the restart; 150 more do not fit, 50 do.
      expect(codeOf(await place(order('daily', { amount: (150 / ask).toFixed(5) })))).toBe('RISK_LIMIT_EXCEEDED');
      expect(codeOf(await place(order('daily', { amount: (50 / ask).toFixed(5) })))).toBe('ok');
    });
  });

  describe('journal and roles', () => {
    it('records the intent with its value, the outcome, and every refusal with its reason', async () => {
      const ok = (await s.call('GET', '/audit/events?account_name=capped&command=trading_place_order&outcome=OK&limit=1', undefined, VIEWER)).body.data[0];
      expect(ok.notional_usdt).toBeGreaterThan(0);
      const denied = (await s.call('GET', '/audit/events?account_name=capped&outcome=RISK_LIMIT_EXCEEDED', undefined, TRADER)).body.data;
      expect(denied.length).toBeGreaterThanOrEqual(3);
      expect(denied[0].detail).toMatchObject({ check: 'max_order_notional', limit: '1000' });
      expect(denied[0].principal).toBe('tina');
      const viaMcp = await mcp(client, 'audit_search_events', { account_name: 'race', outcome: 'RISK_LIMIT_EXCEEDED', channel: 'mcp' });
      expect(viaMcp.ok && viaMcp.output.data.length).toBeGreaterThan(0);
      // No row is left PENDING once its call has answered.
      const pending = ((await s.services.db.execute(sql`select count(*)::int as n from audit_events where outcome = 'PENDING'`)) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n;
      expect(pending).toBe(0);
    });

    it('each guard answers a trader over REST exactly as it answers the agent over MCP', async () => {
      await account('same', { max_order_notional: '500', denied_pairs: ['ETH-*'], max_leverage: 2, confirm_above_notional: '100' });
      const cases: Array<[string, string, Record<string, unknown>]> = [
        ['trading_place_order', '/trading/orders', order('same', { amount: (600 / ask).toFixed(5) })],
        ['trading_place_order', '/trading/orders', order('same', { trading_pair: 'ETH-USDT', amount: '0.1' })],
        ['trading_place_order', '/trading/orders', order('same', { connector_name: 'sim_perpetual', leverage: 3, amount: '0.001' })],
        ['trading_place_order', '/trading/orders', order('same', { amount: (200 / ask).toFixed(5) })],
        ['trading_place_order', '/trading/orders', order('same', { amount: (200 / ask).toFixed(5), confirmation_token: 'ct1.forged.token' })],
        ['trading_set_leverage', '/trading/leverage', { account_name: 'same', connector_name: 'sim_perpetual', trading_pair: 'ETH-USDT', leverage: 2 }],
        ['trading_close_position', '/trading/close-position', { account_name: 'same', connector_name: 'sim_perpetual', trading_pair: 'ETH-USDT' }],
      ];
      const strip = (e: Record<string, unknown>) => ({ ...e, request_id: undefined });
      for (const [tool, path, body] of cases) {
        const rest = await s.call('POST', path, body, TRADER);
        const viaMcp = await mcp(client, tool, body);
        expect(viaMcp.ok, `${tool} ${JSON.stringify(body)}`).toBe(false);
        if (!viaMcp.ok) expect(strip(viaMcp.error)).toEqual(strip(rest.body.error));
      }
      expect(await orderCount('same')).toBe(0);
    });

    it('a viewer can read the guardrails but change nothing', async () => {
      const before = await orderCount('capped');
      expect(codeOf(await s.call('GET', '/safety/status', undefined, VIEWER))).toBe('ok');
      expect(codeOf(await s.call('POST', '/safety/kill-switch', { reason: 'x' }, VIEWER))).toBe('POLICY_DENIED');
      expect(codeOf(await place(order('capped', { amount: '0.0001' }), VIEWER))).toBe('POLICY_DENIED');
      expect(codeOf(await s.call('POST', '/trading/leverage', { account_name: 'capped', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', leverage: 2 }, VIEWER))).toBe('POLICY_DENIED');
      expect(codeOf(await s.call('PUT', '/accounts/capped/policy', { mode: 'disabled' }, VIEWER))).toBe('POLICY_DENIED');
      expect(await orderCount('capped')).toBe(before);
      expect((await s.call('GET', '/safety/status')).body.global_kill_switch).toBeNull();
    });
  });
});

/** What a restricted MCP surface lists and refuses: the surface is fixed by the operator, not the model. */
describe.each(drivers())('restricted MCP surfaces on %s', (driver) => {
  let s: TestServer;
  let client: Client;
  beforeAll(async () => {
    s = await testServer(driver, { readOnly: true, toolsets: 'market_data,trading,safety' });
    expect((await s.call('POST', '/users', { username: 'tina', password: 'trader-password-1', role: 'trader' })).status).toBe(201);
    client = await mcpClient(s.url, TRADER, 'restricted');
  });
  afterAll(async () => {
    await client?.close();
    await s?.stop();
  });

  it('read-only mode lists no tool that changes anything, and refuses one called by name', async () => {
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(0);
    for (const t of tools) expect(t.annotations?.readOnlyHint, t.name).toBe(true);
    const names = tools.map((t) => t.name);
    for (const hidden of ['trading_place_order', 'trading_cancel_order', 'trading_close_position', 'trading_set_leverage', 'safety_set_kill_switch']) expect(names).not.toContain(hidden);
    expect(names).toContain('trading_preview_order');
    const before = (await s.call('GET', '/trading/orders?status=all')).body.data.length;
    for (const [name, args] of [
      ['trading_place_order', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' }],
      ['safety_set_kill_switch', { reason: 'x' }],
      ['trading_set_leverage', { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', leverage: 2 }],
    ] as const) {
      const r = await mcp(client, name, args);
      expect(r.ok ? 'ok' : r.code, name).toBe('POLICY_DENIED');
      if (!r.ok) expect(r.error.message).toMatch(/read-only/);
    }
    expect((await s.call('GET', '/trading/orders?status=all')).body.data.length).toBe(before);
    expect((await s.call('GET', '/safety/status')).body.global_kill_switch).toBeNull();
  });

  it('a tool outside the enabled toolsets is refused by name, and admin tools are never reachable', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names.some((n) => n.startsWith('portfolio_') || n.startsWith('accounts_') || n.startsWith('audit_'))).toBe(false);
    for (const [name, code] of [['portfolio_get_balances', 'POLICY_DENIED'], ['audit_search_events', 'POLICY_DENIED'], ['users_list_users', 'POLICY_DENIED'], ['safety_update_policy', 'POLICY_DENIED'], ['no_such_tool_here', 'NOT_FOUND']] as const) {
      const r = await mcp(client, name, {});
      expect(r.ok ? 'ok' : r.code, name).toBe(code);
    }
  });

  it('REST is not the MCP surface: the same trader still trades over REST under the account policy', async () => {
    const r = await s.call('POST', '/trading/orders', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' }, TRADER);
    expect(r.status, r.text).toBe(201);
  });
});

/** Two servers on one Postgres (a REST server and a stdio MCP server side by side): the account lock spans both. */
describe.runIf(drivers().includes('postgres'))('guardrails across processes on postgres', () => {
  let a: TestServer;
  let b: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    a = await testServer('postgres', {}, { simNow: () => PINNED });
    b = await startServer(a.env.config, createLogger('silent'), { simNow: () => PINNED });
  });
  afterAll(async () => {
    await b?.close();
    await a?.stop();
  });

  it('orders racing through two servers cannot pass a 24 h cap together', async () => {
    // Eight accounts with room for one order each; every account gets one order through each server at
    // the same moment. Without a lock across the two processes both would pass their checks.
    const body = (account: string) => ({ account_name: account, connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.002' });
    const names = Array.from({ length: 8 }, (_, i) => `shared${i}`);
    for (const n of names) expect((await a.call('POST', '/accounts', { account_name: n, connectors: [{ connector_name: 'sim', paper_balances: { USDT: '1000000' } }] })).status).toBe(201);
    const each = (await a.call('POST', '/trading/orders/preview', body('shared0'))).body.notional_usdt as number;
    for (const n of names) expect((await a.call('PUT', `/accounts/${n}/policy`, { max_daily_notional: (each * 1.5).toFixed(6) })).status).toBe(200);
    const results = await Promise.all(names.flatMap((n) => [httpJson(a.url, 'POST', '/trading/orders', body(n)), httpJson(b.url, 'POST', '/trading/orders', body(n))]));
    expect(results.filter((r) => r.status === 201).length).toBe(8);
    expect(results.filter((r) => r.status !== 201).every((r) => r.body.error.code === 'RISK_LIMIT_EXCEEDED')).toBe(true);
    for (const n of names) {
      const st = (await httpJson(b.url, 'GET', `/safety/status?account_name=${n}`)).body.accounts[0];
      expect(st.used_24h_notional).toBeLessThanOrEqual(each * 1.5);
    }
  });

  it('a kill switch set through one server stops orders through the other at once', async () => {
    expect((await httpJson(b.url, 'POST', '/safety/kill-switch', { account_name: 'shared0', reason: 'seen everywhere' })).status).toBe(200);
    const r = await a.call('POST', '/trading/orders', { account_name: 'shared0', connector_name: 'sim', trading_pair: 'ETH-USDT', side: 'buy', order_type: 'market', amount: '0.01' });
    expect(r.body.error.code).toBe('KILL_SWITCH_ACTIVE');
  });
});
