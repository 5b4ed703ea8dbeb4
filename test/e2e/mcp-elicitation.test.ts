import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../src/mcp/server.js';
import { DEFAULT_TOOLSETS } from '../../src/tools/index.js';
import { errorOf } from '../helpers/errors.js';
import { guardrailServer, order, type GuardrailHarness } from '../helpers/guardrail-harness.js';
import { drivers } from '../helpers/test-env.js';

/**
 * Confirmation by MCP elicitation, for clients that support it: the person answers, not the model.
 * The client here is the SDK's own, connected in-process to our MCP server as the trader "agent".
 */
describe.each(drivers())('order confirmation by elicitation on %s', (driver) => {
  let h: GuardrailHarness;
  let ask = 0;
  let answer: (req: unknown) => Promise<ElicitResult> = async () => ({ action: 'decline' });
  const asked: Array<{ message: string }> = [];

  async function connect(withElicitation: boolean): Promise<Client> {
    const server = createMcpServer({
      registry: h.s.registry,
      services: h.s.services,
      principal: { name: 'agent', role: 'trader' },
      surface: { channel: 'mcp', toolsets: new Set(DEFAULT_TOOLSETS), readOnly: false },
      version: 'test',
    });
    const client = new Client({ name: 'elicit', version: '1' }, { capabilities: withElicitation ? { elicitation: {} } : {} });
    if (withElicitation) {
      client.setRequestHandler(ElicitRequestSchema, async (req) => {
        asked.push({ message: req.params.message });
        return answer(req);
      });
    }
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    await client.connect(b);
    return client;
  }

  /** Each test's own account, asking for confirmation above 100 USDT. */
  let account = '';
  let n = 0;
  const orders = () => h.orderCount(account);
  const big = () => order(account, { amount: (500 / ask).toFixed(5) });
  const codeOf = (r: Awaited<ReturnType<Client['callTool']>>) => (r.isError ? errorOf(r).code : 'ok');

  beforeAll(async () => {
    h = await guardrailServer(driver);
    ask = (await h.s.call('GET', '/market-data/ticker/BTC-USDT?connector_name=sim')).body.ask;
  });
  afterAll(async () => h?.close());
  beforeEach(async () => {
    account = await h.account(`elicit_${++n}`, { confirm_above_notional: '100' });
  });

  it('an approval places the order, and the person saw what it was', async () => {
    const client = await connect(true);
    answer = async () => ({ action: 'accept', content: { confirm: true } });
    const r = await client.callTool({ name: 'trading_place_order', arguments: big() });
    expect(codeOf(r)).toBe('ok');
    expect(asked.at(-1)!.message).toMatch(new RegExp(`buy .* BTC-USDT .* on sim for account ${account}`));
    expect(await orders()).toBe(1);
    await client.close();
  });

  it('a decline, a cancel, an unticked accept and a failing client all refuse, with nothing placed', async () => {
    const client = await connect(true);
    const answers: Array<() => Promise<ElicitResult>> = [
      async () => ({ action: 'decline' }),
      async () => ({ action: 'cancel' }),
      async () => ({ action: 'accept', content: { confirm: false } }),
      async () => {
        throw new Error('the client UI crashed');
      },
    ];
    for (const a of answers) {
      answer = a;
      expect(codeOf(await client.callTool({ name: 'trading_place_order', arguments: big() }))).toBe('CONFIRMATION_DECLINED');
    }
    expect(await orders()).toBe(0);
    await client.close();
  });

  it('with elicitation available there is no token fallback the model could use', async () => {
    const client = await connect(true);
    const preview = await client.callTool({ name: 'trading_preview_order', arguments: big() });
    const token = (preview.structuredContent as { confirmation_token: string }).confirmation_token;
    expect(token).toBeTruthy();
    answer = async () => ({ action: 'decline' });
    expect(codeOf(await client.callTool({ name: 'trading_place_order', arguments: { ...big(), confirmation_token: token } }))).toBe('CONFIRMATION_DECLINED');
    expect(await orders()).toBe(0);
    await client.close();
  });

  it('a client without elicitation gets the token path instead', async () => {
    const client = await connect(false);
    const before = asked.length;
    expect(codeOf(await client.callTool({ name: 'trading_place_order', arguments: big() }))).toBe('CONFIRMATION_REQUIRED');
    const preview = await client.callTool({ name: 'trading_preview_order', arguments: big() });
    const token = (preview.structuredContent as { confirmation_token: string }).confirmation_token;
    expect(codeOf(await client.callTool({ name: 'trading_place_order', arguments: { ...big(), confirmation_token: token } }))).toBe('ok');
    expect(asked.length).toBe(before);
    expect(await orders()).toBe(1);
    await client.close();
  });

  it('orders below the threshold and risk-reducing calls are never asked about', async () => {
    const client = await connect(true);
    const before = asked.length;
    answer = async () => ({ action: 'decline' });
    expect(codeOf(await client.callTool({ name: 'trading_place_order', arguments: { ...big(), amount: (50 / ask).toFixed(5) } }))).toBe('ok');
    expect(asked.length).toBe(before);
    expect(await orders()).toBe(1);
    await client.close();
  });
});
