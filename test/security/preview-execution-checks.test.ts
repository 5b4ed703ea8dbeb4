import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, mcpCall as mcp, mcpClient } from '../helpers/mcp-call.js';
import { basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { ManualClock } from '../../src/core/clock.js';

/**
 * A preview meets every check the order would: the guards, then the engine's own (funds, margin,
 * market rules, limit_maker crossing). What it says would be refused is refused, and what it says
 * passes is placed; a passed check carries no error code.
 */
const TRADER = basicHeader('pia', 'trader-password-1');
interface CheckOut {
  name: string;
  ok: boolean;
  code: string | null;
}

describe.each(drivers())('preview runs the execution checks on %s', (driver) => {
  let s: TestServer;
  let client: Client;
  let ask = 0;
  let bid = 0;

  const order = (extra: Record<string, unknown> = {}) => ({ account_name: 'small', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001', ...extra });
  const preview = async (body: Record<string, unknown>) => {
    const r = await s.call('POST', '/trading/orders/preview', body, TRADER);
    expect(r.status, r.text).toBe(200);
    return r.body as { would_be_refused: boolean; checks: CheckOut[] };
  };
  const place = (body: Record<string, unknown>) => s.call('POST', '/trading/orders', body, TRADER);
  const failed = (p: { checks: CheckOut[] }) => p.checks.filter((c) => !c.ok).map((c) => ({ name: c.name, code: c.code }));
  const passedCodes = (p: { checks: CheckOut[] }) => p.checks.filter((c) => c.ok).map((c) => c.code);

  beforeAll(async () => {
    s = await testServer(driver, {}, { clock: new ManualClock(Date.UTC(2026, 6, 1, 12, 0, 0, 0)) });
    expect((await s.call('POST', '/users', { username: 'pia', password: 'trader-password-1', role: 'trader' })).status).toBe(201);
    const made = await s.call('POST', '/accounts', {
      account_name: 'small',
      connectors: [
        { connector_name: 'sim', paper_balances: { USDT: '1000', BTC: '0.01' } },
        { connector_name: 'sim_perpetual', paper_balances: { USDT: '100' } },
      ],
    });
    expect(made.status, made.text).toBe(201);
    client = await mcpClient(s.url, TRADER, 'preview-checks');
    const ob = await (await s.services.connectors.get('sim')).fetchOrderBook('BTC-USDT', 1);
    ask = ob.asks[0]!.price;
    bid = ob.bids[0]!.price;
  });
  afterAll(async () => {
    await client?.close();
    await s?.stop();
  });

  it('a buy 30 times the balance previews as refused for funds, and placing it is refused the same way', async () => {
    const body = order({ amount: ((30 * 1000) / ask).toFixed(5) });
    const p = await preview(body);
    expect(p.would_be_refused).toBe(true);
    expect(failed(p)).toEqual([{ name: 'funds', code: 'UPSTREAM_REJECTED' }]);
    const r = await place(body);
    expect(codeOf(r)).toBe('UPSTREAM_REJECTED');
    expect(r.body.error.details.reason).toBe('insufficient_funds');
    const m = await mcp(client, 'trading_preview_order', body);
    expect(m.ok && m.output.would_be_refused).toBe(true);
    expect(m.ok && failed(m.output)).toEqual([{ name: 'funds', code: 'UPSTREAM_REJECTED' }]);
  });

  it('an order the account can pay for passes, every passed check without a code, and is placed', async () => {
    const body = order({ amount: '0.001' });
    const p = await preview(body);
    expect(p.would_be_refused).toBe(false);
    expect(p.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['mode', 'pairs', 'funds', 'order_rules']));
    expect(new Set(passedCodes(p))).toEqual(new Set([null]));
    expect(codeOf(await place(body))).toBe('ok');
  });

  it('a passed guard carries no code next to a failed one', async () => {
    expect((await s.call('PUT', '/accounts/small/policy', { max_order_notional: '10' })).status).toBe(200);
    try {
      const p = await preview(order({ amount: '0.001' }));
      expect(p.would_be_refused).toBe(true);
      expect(failed(p)).toEqual([{ name: 'max_order_notional', code: 'RISK_LIMIT_EXCEEDED' }]);
      expect(new Set(passedCodes(p))).toEqual(new Set([null]));
    } finally {
      expect((await s.call('PUT', '/accounts/small/policy', { max_order_notional: null })).status).toBe(200);
    }
  });

  const refusals: Array<[string, Record<string, unknown>, { name: string; code: string }]> = [
    ['a spot sell of more base than is held', { side: 'sell', amount: '0.5' }, { name: 'funds', code: 'UPSTREAM_REJECTED' }],
    ['a perpetual order beyond the margin', { connector_name: 'sim_perpetual', amount: '0.1' }, { name: 'funds', code: 'UPSTREAM_REJECTED' }],
    ['a limit_maker that would take liquidity', { order_type: 'limit_maker', price: 'ASK_ABOVE' }, { name: 'exchange_rules', code: 'UPSTREAM_REJECTED' }],
    ['an order below the minimum notional', { amount: '0.00001' }, { name: 'order_rules', code: 'VALIDATION_FAILED' }],
    ['an amount that rounds to nothing at the step', { amount: '0.000001' }, { name: 'order_rules', code: 'VALIDATION_FAILED' }],
    ['a close with no position to reduce', { connector_name: 'sim_perpetual', side: 'sell', position_action: 'close' }, { name: 'order_rules', code: 'VALIDATION_FAILED' }],
  ];
  it.each(refusals)('%s previews as refused, and placing it is refused with the same code', async (_what, extra, expected) => {
    const body = order({ ...extra, ...(extra.price === 'ASK_ABOVE' ? { price: (ask * 1.01).toFixed(2) } : {}) });
    const p = await preview(body);
    expect(p.would_be_refused).toBe(true);
    expect(failed(p)).toEqual([expected]);
    expect(codeOf(await place(body))).toBe(expected.code);
  });

  it('a resting limit buy counts the funds it holds back: a second one beyond the balance is refused in preview', async () => {
    const price = (bid * 0.9).toFixed(2);
    const amount = (600 / Number(price)).toFixed(5);
    expect(codeOf(await place(order({ order_type: 'limit', price, amount })))).toBe('ok');
    const p = await preview(order({ order_type: 'limit', price, amount }));
    expect(failed(p)).toEqual([{ name: 'funds', code: 'UPSTREAM_REJECTED' }]);
    // The preview changed nothing: the first order still holds its funds, and no order was added.
    const open = await s.call('GET', '/trading/orders?account_name=small', undefined, TRADER);
    expect(open.body.data.filter((o: { status: string }) => o.status === 'open')).toHaveLength(1);
  });
});
