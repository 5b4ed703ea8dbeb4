import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { APPROVAL_TTL_MS } from '../../src/core/safety/approvals.js';
import { DEFAULT_TOOLSETS } from '../../src/tools/index.js';
import { mcpCall, mcpClient } from '../helpers/mcp-call.js';
import { basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { ManualClock } from '../../src/core/clock.js';

/** The clock is pinned so that every order is valued at the same sim price. */
const PINNED = Date.UTC(2026, 5, 1, 12, 0, 0, 0);
const AMY = basicHeader('amy', 'amy-trader-password');
const BOB = basicHeader('bob', 'bob-admin-password');
const CID = basicHeader('cid', 'cid-trader-password');

/**
 * Policy `confirmation: human`: an order above the threshold is parked as an approval that only a
 * different admin can grant over REST; the agent sees its state and places the exact order once.
 */
describe.each(drivers())('human approvals on %s', (driver) => {
  let s: TestServer;
  const clock = new ManualClock(PINNED);
  let agent: Client;
  let amount = '';
  const order = (extra: Record<string, unknown> = {}) => ({ account_name: 'approve_me', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount, ...extra });
  const orders = async () => ((await s.services.db.execute(sql`select count(*)::int as n from orders where account_name = 'approve_me'`)) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n;
  /** The agent's order over MCP; the approval id its refusal names. */
  const park = async (extra: Record<string, unknown> = {}): Promise<string> => {
    const r = await mcpCall(agent, 'trading_place_order', order(extra));
    expect(r.ok ? 'ok' : r.code).toBe('CONFIRMATION_REQUIRED');
    return (r as { error: { details: { approval_id: string } } }).error.details.approval_id;
  };

  beforeAll(async () => {
    s = await testServer(driver, {}, { clock });
    for (const [username, password, role] of [['amy', 'amy-trader-password', 'trader'], ['bob', 'bob-admin-password', 'admin'], ['cid', 'cid-trader-password', 'trader']]) {
      expect((await s.call('POST', '/users', { username, password, role })).status).toBe(201);
    }
    expect((await s.call('POST', '/accounts', { account_name: 'approve_me', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '1000000' } }] })).status).toBe(201);
    expect((await s.call('PUT', '/accounts/approve_me/policy', { confirm_above_notional: '100', confirmation: 'human' })).body.confirmation).toBe('human');
    const ask = (await s.call('GET', '/market-data/ticker/BTC-USDT?connector_name=sim')).body.ask as number;
    amount = (500 / ask).toFixed(5); // about 500 USDT: above the 100 USDT threshold
    agent = await mcpClient(s.url, AMY, 'amy');
  });
  afterAll(async () => {
    await agent?.close();
    await s?.stop();
  });

  it('parks the order, tells the agent a person must act, and places nothing', async () => {
    const before = await orders();
    const r = await mcpCall(agent, 'trading_place_order', order());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('CONFIRMATION_REQUIRED');
    expect(r.error.details.approval_id).toMatch(/^apr_/);
    expect(r.error.message).toContain('a person must approve it, you cannot');
    expect(r.error.hint).toContain(`POST /trading/approvals/${r.error.details.approval_id}/approve`);
    expect(await orders()).toBe(before);
    const seen = await mcpCall(agent, 'approvals_get_approval', { approval_id: r.error.details.approval_id });
    expect(seen.ok && seen.output.approval).toMatchObject({ status: 'pending', requester: 'amy', account_name: 'approve_me', order: { amount, side: 'buy', trading_pair: 'BTC-USDT' } });
    // The same order again waits on the same approval rather than opening another.
    expect(await park()).toBe(r.error.details.approval_id);
  });

  it('the agent cannot approve: the command is not offered over MCP, and a trader is refused over REST', async () => {
    const id = await park();
    const tools = (await agent.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('approvals_get_approval');
    expect(tools).not.toContain('approvals_approve_order');
    const overMcp = await mcpCall(agent, 'approvals_approve_order', { approval_id: id });
    expect(overMcp.ok ? 'ok' : overMcp.code).toBe('POLICY_DENIED');
    const overRest = await s.call('POST', `/trading/approvals/${id}/approve`, {}, AMY);
    expect(overRest.status).toBe(403);
    expect(overRest.body.error.code).toBe('POLICY_DENIED');
    expect((await s.call('GET', `/trading/approvals/${id}`)).body.approval.status).toBe('pending');
  });

  it('the requester cannot approve its own order even with the admin role', async () => {
    const id = await park({ amount: (Number(amount) * 2).toFixed(5) });
    expect((await s.call('PUT', '/users/amy', { role: 'admin' })).status).toBe(200);
    try {
      const self = await s.call('POST', `/trading/approvals/${id}/approve`, {}, AMY);
      expect(self.status).toBe(403);
      expect(self.body.error.code).toBe('POLICY_DENIED');
      expect(self.body.error.message).toContain('cannot approve it');
    } finally {
      expect((await s.call('PUT', '/users/amy', { role: 'trader' })).status).toBe(200);
    }
    expect((await s.call('GET', `/trading/approvals/${id}`)).body.approval.status).toBe('pending');
  });

  it('another admin approves; the exact order is placed once, a changed one is not', async () => {
    const id = await park();
    const approved = await s.call('POST', `/trading/approvals/${id}/approve`, { reason: 'fine by me' }, BOB);
    expect(approved.status).toBe(200);
    expect(approved.body.approval).toMatchObject({ status: 'approved', decided_by: 'bob', reason: 'fine by me' });

    const changed = await mcpCall(agent, 'trading_place_order', order({ amount: (Number(amount) + 0.0001).toFixed(5), approval_id: id }));
    expect(changed.ok ? 'ok' : changed.code).toBe('CONFIRMATION_MISMATCH');
    const otherPrincipal = await s.call('POST', '/trading/orders', order({ approval_id: id }), CID);
    expect(otherPrincipal.body.error.code).toBe('NOT_FOUND');

    const before = await orders();
    const placed = await mcpCall(agent, 'trading_place_order', order({ approval_id: id }));
    expect(placed.ok, JSON.stringify(placed)).toBe(true);
    expect(await orders()).toBe(before + 1);
    const again = await mcpCall(agent, 'trading_place_order', order({ approval_id: id }));
    expect(again.ok ? 'ok' : again.code).toBe('CONFIRMATION_REUSED');
    expect(await orders()).toBe(before + 1);
    expect((await s.call('GET', `/trading/approvals/${id}`)).body.approval.status).toBe('used');

    const events = await s.call('GET', '/audit/events?principal=amy&command=trading_place_order&outcome=OK');
    expect(events.body.data[0].detail).toMatchObject({ confirmation: 'human', approval_id: id });
  });

  it('the same order sent again without the id uses its approval, once', async () => {
    const id = await park({ order_type: 'limit', price: '1000', amount: '0.5' });
    expect((await s.call('POST', `/trading/approvals/${id}/approve`, {}, BOB)).status).toBe(200);
    const placed = await mcpCall(agent, 'trading_place_order', order({ order_type: 'limit', price: '1000', amount: '0.5', client_order_id: 'approved-once' }));
    expect(placed.ok, JSON.stringify(placed)).toBe(true);
    // A different client_order_id is a second order: it needs a second approval.
    const second = await mcpCall(agent, 'trading_place_order', order({ order_type: 'limit', price: '1000', amount: '0.5', client_order_id: 'approved-twice' }));
    expect(second.ok ? 'ok' : second.code).toBe('CONFIRMATION_REQUIRED');
    expect((second as { error: { details: { approval_id: string } } }).error.details.approval_id).not.toBe(id);
  });

  it('a rejected approval declines the order and cannot be approved afterwards', async () => {
    const id = await park({ amount: (Number(amount) * 3).toFixed(5) });
    const rejected = await s.call('POST', `/trading/approvals/${id}/reject`, { reason: 'too large' }, BOB);
    expect(rejected.body.approval).toMatchObject({ status: 'rejected', decided_by: 'bob', reason: 'too large' });
    const sent = await mcpCall(agent, 'trading_place_order', order({ amount: (Number(amount) * 3).toFixed(5), approval_id: id }));
    expect(sent.ok ? 'ok' : sent.code).toBe('CONFIRMATION_DECLINED');
    const late = await s.call('POST', `/trading/approvals/${id}/approve`, {}, BOB);
    expect(late.status).toBe(409);
    expect(late.body.error.details.status).toBe('rejected');
  });

  it('a reason longer than 200 characters is refused', async () => {
    const id = await park({ amount: (Number(amount) * 4).toFixed(5) });
    const r = await s.call('POST', `/trading/approvals/${id}/reject`, { reason: 'x'.repeat(201) }, BOB);
    expect(r.status).toBe(400);
    expect(r.body.error.details.issues[0].path).toBe('reason');
  });

  it('an approval expires: undecided it cannot be approved, approved it cannot be used late', async () => {
    const undecided = await park({ amount: (Number(amount) * 5).toFixed(5) });
    const decided = await park({ amount: (Number(amount) * 6).toFixed(5) });
    expect((await s.call('POST', `/trading/approvals/${decided}/approve`, {}, BOB)).status).toBe(200);
    clock.advance(APPROVAL_TTL_MS + 1000);
    try {
      const late = await s.call('POST', `/trading/approvals/${undecided}/approve`, {}, BOB);
      expect(late.status).toBe(409);
      expect(late.body.error.details.status).toBe('expired');
      const seen = await mcpCall(agent, 'approvals_get_approval', { approval_id: decided });
      expect(seen.ok && seen.output.approval.status).toBe('expired');
      const used = await mcpCall(agent, 'trading_place_order', order({ amount: (Number(amount) * 6).toFixed(5), approval_id: decided }));
      expect(used.ok ? 'ok' : used.code).toBe('CONFIRMATION_EXPIRED');
      const listed = await mcpCall(agent, 'approvals_list_approvals', { status: 'expired' });
      expect(listed.ok && listed.output.data.map((a: { approval_id: string }) => a.approval_id)).toEqual(expect.arrayContaining([undecided, decided]));
    } finally {
      // Later tests start after every approval made so far has lapsed.
      clock.advance(APPROVAL_TTL_MS);
    }
  });

  it('a principal sees only its own approvals; an admin sees all', async () => {
    const mine = await mcpCall(agent, 'approvals_list_approvals', {});
    expect(mine.ok && mine.output.data.length).toBeGreaterThan(0);
    expect(mine.ok && mine.output.data.every((a: { requester: string }) => a.requester === 'amy')).toBe(true);
    const id = (mine as { output: { data: Array<{ approval_id: string }> } }).output.data[0]!.approval_id;
    expect((await s.call('GET', `/trading/approvals/${id}`, undefined, CID)).body.error.code).toBe('NOT_FOUND');
    expect((await s.call('GET', '/trading/approvals', undefined, CID)).body.data).toEqual([]);
    expect((await s.call('GET', '/trading/approvals', undefined, BOB)).body.data.map((a: { approval_id: string }) => a.approval_id)).toContain(id);
  });

  it('an MCP client that can ask its user is not asked: the order is still parked for another person', async () => {
    let asked = 0;
    const server = createMcpServer({ registry: s.registry, services: s.services, principal: { name: 'amy', role: 'trader' }, surface: { channel: 'mcp', toolsets: new Set(DEFAULT_TOOLSETS), readOnly: false }, version: 'test' });
    const client = new Client({ name: 'elicit', version: '1' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => {
      asked++;
      return { action: 'accept', content: { approve: true } };
    });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    await client.connect(b);
    try {
      const r = await mcpCall(client, 'trading_place_order', order({ amount: (Number(amount) * 7).toFixed(5) }));
      expect(r.ok ? 'ok' : r.code).toBe('CONFIRMATION_REQUIRED');
      expect(asked).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('a preview says a confirmation is needed but issues no token the agent could use instead', async () => {
    const preview = await mcpCall(agent, 'trading_preview_order', order());
    expect(preview.ok && { required: preview.output.confirmation_required, token: preview.output.confirmation_token }).toEqual({ required: true, token: null });
  });

  it('below the threshold an order needs no approval', async () => {
    const small = await mcpCall(agent, 'trading_place_order', order({ amount: (Number(amount) / 10).toFixed(5) }));
    expect(small.ok, JSON.stringify(small)).toBe(true);
  });
});
