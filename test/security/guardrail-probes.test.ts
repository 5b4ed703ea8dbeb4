import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardrailServer, order, perp, TRADER, VIEWER, type GuardrailHarness } from '../helpers/guardrail-harness.js';
import { errorOf } from '../helpers/errors.js';
import { codeOf } from '../helpers/mcp-call.js';
import { drivers } from '../helpers/test-env.js';

/** Attacks on the guardrails through odd inputs: ids, formats, pairs, stored settings, tokens. */
describe.each(drivers())('guardrails against odd inputs on %s', (driver) => {
  let h: GuardrailHarness;
  const place = (body: Record<string, unknown>, auth = TRADER) => h.place(body, auth);
  const policy = (account: string, p: Record<string, unknown>) => h.policy(account, p);
  const orderCount = (a: string) => h.orderCount(a);
  const account = (name: string, p: Record<string, unknown> = {}, usdt = '1000000') => h.account(name, p, usdt);

  beforeAll(async () => {
    h = await guardrailServer(driver, { clientName: 'probes' });
  });
  afterAll(async () => h?.close());

  it('a "close" on a spot connector is refused and leaves no order; an oversized close_position only closes', async () => {
    await account('h_close');
    expect(codeOf(await h.s.call('POST', '/safety/kill-switch', { account_name: 'h_close', reason: 'x' }, TRADER))).toBe('ok');
    expect(codeOf(await place(order('h_close', { side: 'sell', position_action: 'close' })))).toBe('VALIDATION_FAILED');
    expect(await orderCount('h_close')).toBe(0);
    await h.s.call('POST', '/safety/kill-switch/clear', { account_name: 'h_close' });
    expect(codeOf(await place(order('h_close', { ...perp, amount: '0.01' })))).toBe('ok');
    expect(codeOf(await h.s.call('POST', '/trading/close-position', { account_name: 'h_close', ...perp, trading_pair: 'BTC-USDT', amount: '5' }, TRADER))).toBe('ok');
    expect((await h.s.call('GET', '/trading/positions?account_name=h_close', undefined, TRADER)).body.data).toEqual([]);
  });

  it('client_order_id tricks: an id of another account, or a rejected order\'s id with other fields', async () => {
    await account('h_a');
    await account('h_b', { max_order_notional: '10' });
    expect(codeOf(await place(order('h_a', { client_order_id: 'shared-id' })))).toBe('ok');
    expect(codeOf(await place(order('h_b', { client_order_id: 'shared-id' })))).toBe('RISK_LIMIT_EXCEEDED');
    await account('h_rej', {}, '100');
    expect(codeOf(await place(order('h_rej', { amount: '1', client_order_id: 'rej-1' })))).toBe('UPSTREAM_REJECTED');
    expect(codeOf(await place(order('h_rej', { amount: '0.001', client_order_id: 'rej-1' })))).toBe('CONFLICT');
    expect(await orderCount('h_rej')).toBe(1);
  });

  it('the duplicate window sees through amount formats on spot', async () => {
    await account('h_dup', { duplicate_window_seconds: 60 });
    expect(codeOf(await place(order('h_dup', { amount: '0.010' })))).toBe('ok');
    for (const amount of ['0.01', 0.01, '1e-2', '.01']) expect(codeOf(await place(order('h_dup', { amount }))), String(amount)).toBe('DUPLICATE_ORDER');
  });

  it('a stored leverage choice is checked against a later, tighter max_leverage', async () => {
    await account('h_lev');
    expect(codeOf(await h.s.call('POST', '/trading/leverage', { account_name: 'h_lev', ...perp, trading_pair: 'BTC-USDT', leverage: 10 }, TRADER))).toBe('ok');
    await policy('h_lev', { max_leverage: 3 });
    expect(codeOf(await place(order('h_lev', { ...perp, amount: '0.001' })))).toBe('RISK_LIMIT_EXCEEDED');
  });

  it('an ETH-BTC order is valued in USDT through BTC and capped', async () => {
    await account('h_ethbtc', { max_order_notional: '1000' });
    const p = (await h.s.call('POST', '/trading/orders/preview', order('h_ethbtc', { trading_pair: 'ETH-BTC', amount: '1' }), TRADER)).body;
    expect(p.quote_asset).toBe('BTC');
    expect(p.notional_usdt).toBeGreaterThan(1000);
    expect(codeOf(await place(order('h_ethbtc', { trading_pair: 'ETH-BTC', amount: '1' })))).toBe('RISK_LIMIT_EXCEEDED');
  });

  it('tool names are exact; a viewer\'s preview token is useless to anyone', async () => {
    await account('h_conf', { confirm_above_notional: '1' });
    const r = await h.client.callTool({ name: 'Trading_Place_Order', arguments: order('h_conf') });
    expect(errorOf(r).code).toBe('NOT_FOUND');
    const body = order('h_conf', { amount: '0.001' });
    const token = (await h.s.call('POST', '/trading/orders/preview', body, VIEWER)).body.confirmation_token;
    expect(codeOf(await place({ ...body, confirmation_token: token }, VIEWER))).toBe('POLICY_DENIED');
    expect(codeOf(await place({ ...body, confirmation_token: token }))).toBe('CONFIRMATION_MISMATCH');
    expect(await orderCount('h_conf')).toBe(0);
  });
});
