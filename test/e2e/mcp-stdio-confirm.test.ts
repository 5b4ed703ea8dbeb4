import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app/services.js';
import { createLogger } from '../../src/core/logger.js';
import { testEnv, type TestEnv } from '../helpers/test-env.js';
import { cleanEnv, ensureBuilt, MAIN, ROOT } from './dist.js';

/**
 * The real `tradedesk mcp` over stdio with a client that supports elicitation: an order above the
 * account's threshold is put to the person through the client, and only their approval places it.
 */
describe('order confirmation over stdio with a client that can ask the user', () => {
  let env: TestEnv;
  let client: Client;
  let answer: () => Promise<ElicitResult> = async () => ({ action: 'decline' });
  const questions: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    env = await testEnv('postgres');
    // The policy is an admin's setting, made before the agent starts (the stdio server cannot change it).
    const { services } = await createServices(env.config, createLogger('silent'));
    await services.safety.policies.update('master_account', { confirm_above_notional: '100' }, 'admin');
    await services.close();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MAIN, 'mcp'],
      // The same database the policy was written to.
      env: cleanEnv({ DATA_DIR: env.dataDir, DATABASE_URL: env.config.databaseUrl!, API_USERNAME: env.config.apiUsername!, API_PASSWORD: env.config.apiPassword!, VAULT_KEY: env.config.vaultKey!, LOG_LEVEL: 'warn' }),
      cwd: ROOT,
      stderr: 'ignore',
    });
    client = new Client({ name: 'asks-the-user', version: '1' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      questions.push(req.params.message);
      return answer();
    });
    await client.connect(transport, { timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await env?.cleanup();
  });

  const order = { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.01' };
  const outcome = (r: Awaited<ReturnType<Client['callTool']>>) => (r.isError ? JSON.parse((r.content as Array<{ text: string }>)[0]!.text).error.code : (r.structuredContent as { order: { status: string } }).order.status);

  it('a declined order is not placed, and the person was shown it', async () => {
    answer = async () => ({ action: 'decline' });
    expect(outcome(await client.callTool({ name: 'trading_place_order', arguments: order }))).toBe('CONFIRMATION_DECLINED');
    expect(questions.at(-1)).toMatch(/buy 0\.01 BTC-USDT .* on sim for account master_account, worth about \d+/);
    const list = await client.callTool({ name: 'trading_list_orders', arguments: { status: 'all' } });
    expect((list.structuredContent as { data: unknown[] }).data).toHaveLength(0);
  });

  it('an approved order is placed', async () => {
    answer = async () => ({ action: 'accept', content: { confirm: true } });
    expect(outcome(await client.callTool({ name: 'trading_place_order', arguments: order }))).toBe('filled');
    const events = await client.callTool({ name: 'audit_search_events', arguments: { command: 'trading_place_order' } });
    const rows = (events.structuredContent as { data: Array<{ outcome: string; principal: string; detail: unknown }> }).data;
    expect(rows.map((r) => r.outcome)).toEqual(['OK', 'CONFIRMATION_DECLINED']);
    expect(rows[0]).toMatchObject({ principal: 'agent', detail: { confirmation: 'elicitation' } });
  });
});
