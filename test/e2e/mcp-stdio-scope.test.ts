import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpCall } from '../helpers/mcp-call.js';
import { ADMIN, drivers, testServices, type TestEnv } from '../helpers/test-env.js';
import { cleanEnv, ensureBuilt, MAIN, ROOT } from './dist.js';

/** `tradedesk mcp` acts as MCP_PRINCIPAL with that stored user's role and account list. */
describe.each(drivers())('the stdio principal on %s', (driver) => {
  let env: TestEnv;
  let client: Client;

  beforeAll(async () => {
    await ensureBuilt();
    const t = await testServices(driver);
    env = t.env;
    await t.services.accounts.create('alpha', [{ connector_name: 'sim' }]);
    await t.services.users.create('agent', 'agent-password-long', 'trader', ['alpha']);
    await t.services.close();
    const vars: Record<string, string> = { DATA_DIR: env.dataDir, VAULT_KEY: env.config.vaultKey!, API_USERNAME: ADMIN.username, API_PASSWORD: ADMIN.password, MCP_PRINCIPAL: 'agent', LOG_LEVEL: 'warn' };
    if (env.config.databaseUrl) vars.DATABASE_URL = env.config.databaseUrl;
    const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp'], env: cleanEnv(vars), cwd: ROOT, stderr: 'pipe' });
    client = new Client({ name: 'stdio-scope', version: '1' });
    await client.connect(transport, { timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await env?.cleanup();
  });

  it('sees only its accounts and cannot trade another', async () => {
    const listed = await mcpCall(client, 'accounts_list_accounts', {});
    expect(listed.ok && listed.output.data.map((a: { account_name: string }) => a.account_name)).toEqual(['alpha']);
    const other = await mcpCall(client, 'trading_place_order', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' });
    expect(other.ok ? 'ok' : other.code).toBe('NOT_FOUND');
    const own = await mcpCall(client, 'trading_place_order', { account_name: 'alpha', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' });
    expect(own.ok, JSON.stringify(own)).toBe(true);
  });
});
