import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/errors.js';
import { waitFor } from '../helpers/wait.js';
import { cleanEnv, ensureBuilt, MAIN, ROOT } from './dist.js';
import { MCP_PAGE_LIMIT } from '../../src/core/pagination.js';

type CallResult = Awaited<ReturnType<Client['callTool']>>;

function structured(result: CallResult): any {
  expect(result.isError ?? false).toBe(false);
  const content = result.content as Array<{ type: string; text: string }>;
  // The same JSON as text, for clients that ignore structuredContent.
  expect(JSON.parse(content[0]!.text)).toEqual(result.structuredContent);
  return result.structuredContent;
}

describe('MCP over stdio: the real CLI with the SDK client', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let transport: StdioClientTransport;
  let client: Client;
  let stderr = '';
  const protocolErrors: Error[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'td-e2e-stdio-'));
    // No DATABASE_URL and no API_* variables: the embedded Postgres with a generated admin.
    env = cleanEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp'], env, cwd: ROOT, stderr: 'pipe' });
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    client = new Client({ name: 'e2e-stdio', version: '1.0.0' });
    client.onerror = (err) => protocolErrors.push(err);
    await client.connect(transport, { timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('identifies itself and sends non-empty server instructions', () => {
    expect(client.getServerVersion()?.name).toBe('tradedesk');
    const instructions = client.getInstructions();
    expect(typeof instructions).toBe('string');
    expect(instructions!.length).toBeGreaterThan(50);
    expect(instructions).toContain('master_account');
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, prompts: {} });
  });

  it('lists the agent tools and none of the REST-only admin commands', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(['connectors_list_connectors', 'connectors_get_connector', 'connectors_get_trading_rules', 'connectors_list_markets', 'accounts_list_accounts', 'accounts_get_balances']),
    );
    for (const n of ['accounts_create_account', 'accounts_update_account', 'accounts_delete_account']) expect(names).not.toContain(n);
    // The order-changing tools and the kill switch are the only ones that are not read-only; placing and closing can lose money.
    const writers: Record<string, { destructiveHint: boolean }> = {
      trading_place_order: { destructiveHint: true },
      trading_close_position: { destructiveHint: true },
      trading_cancel_order: { destructiveHint: false },
      trading_set_leverage: { destructiveHint: false },
      safety_set_kill_switch: { destructiveHint: false },
    };
    expect(names).toEqual(expect.arrayContaining(Object.keys(writers)));
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect(t.description?.length).toBeGreaterThan(20);
      const writer = writers[t.name];
      if (writer) expect(t.annotations, t.name).toMatchObject({ readOnlyHint: false, ...writer });
      else expect(t.annotations, t.name).toMatchObject({ readOnlyHint: true, destructiveHint: false });
      expect(typeof t.annotations?.idempotentHint).toBe('boolean');
      expect(typeof t.annotations?.openWorldHint).toBe('boolean');
    }
  });

  it('connectors_list_markets on sim returns BTC-USDT in structuredContent', async () => {
    const out = structured(await client.callTool({ name: 'connectors_list_markets', arguments: { connector_name: 'sim' } }));
    expect(out.connector_name).toBe('sim');
    expect(out.data.map((m: { trading_pair: string }) => m.trading_pair)).toContain('BTC-USDT');
    expect(out.data.find((m: { trading_pair: string }) => m.trading_pair === 'BTC-USDT')).toEqual({ trading_pair: 'BTC-USDT', base: 'BTC', quote: 'USDT', market_type: 'spot', active: true });
    expect(out.pagination).toEqual({ limit: MCP_PAGE_LIMIT, has_more: false, next_cursor: null });
  });

  it('accounts_get_balances reads master_account paper balances', async () => {
    const out = structured(await client.callTool({ name: 'accounts_get_balances', arguments: { account_name: 'master_account' } }));
    expect(out.account_name).toBe('master_account');
    const sim = out.connectors.find((c: { connector_name: string }) => c.connector_name === 'sim');
    expect(sim).toEqual({
      connector_name: 'sim',
      status: 'ok',
      balances: [
        { asset: 'BTC', total: 1, available: 1, locked: 0 },
        { asset: 'USDT', total: 10000, available: 10000, locked: 0 },
      ],
    });
    const perp = out.connectors.find((c: { connector_name: string }) => c.connector_name === 'sim_perpetual');
    expect(perp.balances).toEqual([{ asset: 'USDT', total: 10000, available: 10000, locked: 0 }]);
  });

  it('accounts_list_accounts lists master_account with masked (empty) credentials', async () => {
    const out = structured(await client.callTool({ name: 'accounts_list_accounts', arguments: {} }));
    const master = out.data.find((a: { account_name: string }) => a.account_name === 'master_account');
    expect(master.connectors.map((c: { connector_name: string }) => c.connector_name)).toEqual(['sim', 'sim_perpetual']);
  });

  it('a bad argument is an isError result with VALIDATION_FAILED and the field paths', async () => {
    const err = errorOf(await client.callTool({ name: 'connectors_list_markets', arguments: { connector_name: 42, bogus_key: true } }));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.retryable).toBe(false);
    expect(err.hint).toBeTruthy();
    expect(typeof err.request_id).toBe('string');
    const issues = err.details!.issues!;
    expect(issues.map((i) => i.path)).toContain('connector_name');
    expect(issues.some((i) => i.message.includes('bogus_key'))).toBe(true);
    for (const i of issues) expect(typeof i.path).toBe('string');
  });

  it('a missing required argument is VALIDATION_FAILED naming it', async () => {
    const err = errorOf(await client.callTool({ name: 'accounts_get_balances', arguments: {} }));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.details!.issues!.map((i) => i.path)).toEqual(['account_name']);
  });

  it('a domain failure is an isError result too (unknown account → NOT_FOUND)', async () => {
    const err = errorOf(await client.callTool({ name: 'accounts_get_balances', arguments: { account_name: 'nobody' } }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.hint).toBeTruthy();
  });

  it('calling a REST-only command by name is refused with POLICY_DENIED and changes nothing', async () => {
    const create = errorOf(
      await client.callTool({ name: 'accounts_create_account', arguments: { account_name: 'agent_made', connectors: [{ connector_name: 'binance', credentials: { api_key: 'agent-key-123', secret: 'agent-secret-123' } }] } }),
    );
    expect(create.code).toBe('POLICY_DENIED');
    expect(create.hint).toMatch(/REST/);
    expect(JSON.stringify(create)).not.toContain('agent-secret-123');
    const del = errorOf(await client.callTool({ name: 'accounts_delete_account', arguments: { account_name: 'master_account' } }));
    expect(del.code).toBe('POLICY_DENIED');
    const list = structured(await client.callTool({ name: 'accounts_list_accounts', arguments: {} }));
    expect(list.data.map((a: { account_name: string }) => a.account_name)).toEqual(['master_account']);
  });

  it('an unknown tool name is an isError result with NOT_FOUND', async () => {
    const err = errorOf(await client.callTool({ name: 'trading_teleport_order', arguments: {} }));
    expect(err.code).toBe('NOT_FOUND');
  });

  it('lists the explore_markets prompt and renders it with its arguments', async () => {
    const { prompts } = await client.listPrompts();
    const p = prompts.find((x) => x.name === 'explore_markets');
    expect(p).toBeDefined();
    expect(p!.description).toBeTruthy();
    expect(p!.arguments).toEqual([
      expect.objectContaining({ name: 'connector_name', required: true }),
      expect.objectContaining({ name: 'asset', required: false }),
    ]);
    expect(prompts.map((x) => x.name)).not.toContain('server-instructions');

    const withAsset = await client.getPrompt({ name: 'explore_markets', arguments: { connector_name: 'sim_perpetual', asset: 'ETH' } });
    expect(withAsset.messages).toHaveLength(1);
    expect(withAsset.messages[0]!.role).toBe('user');
    const text = (withAsset.messages[0]!.content as { type: string; text: string }).text;
    expect(text).toContain('`sim_perpetual`');
    expect(text).toContain('asset filter: ETH');
    expect(text).not.toContain('{{');

    const without = await client.getPrompt({ name: 'explore_markets', arguments: { connector_name: 'sim' } });
    expect((without.messages[0]!.content as { text: string }).text).toContain('(not given)');
  });

  it('refuses a prompt without its required argument, or an unknown prompt', async () => {
    await expect(client.getPrompt({ name: 'explore_markets', arguments: {} })).rejects.toThrow(/connector_name/);
    await expect(client.getPrompt({ name: 'no_such_prompt', arguments: {} })).rejects.toThrow(/No prompt named/);
  });

  it('wrote nothing but JSON-RPC to stdout, and its first-start notice to stderr', () => {
    // The SDK reports any stdout line that is not a JSON-RPC message through onerror.
    expect(protocolErrors).toEqual([]);
    expect(stderr).toContain('First start');
    expect(stderr).toMatch(/password: \S{20,}/);
  });

  it('a second mcp process on the same DATA_DIR shares its embedded database, and leaving does not stop it for the first', async () => {
    const registered = () => readdirSync(join(dataDir, 'processes')).map((f) => Number(f.replace(/\.json$/, '')));
    expect(registered()).toContain(transport.pid);
    const t2 = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp'], env, cwd: ROOT, stderr: 'pipe' });
    const c2 = new Client({ name: 'e2e-stdio-second', version: '1.0.0' });
    try {
      await c2.connect(t2, { timeout: 60_000 });
      expect(registered()).toEqual(expect.arrayContaining([transport.pid, t2.pid]));
      const seen = structured(await c2.callTool({ name: 'connectors_get_connector', arguments: { connector_name: 'sim' } }));
      expect(seen.name).toBe('sim');
    } finally {
      await c2.close();
    }
    // The first one is unaffected.
    const out = structured(await client.callTool({ name: 'connectors_get_connector', arguments: { connector_name: 'sim' } }));
    expect(out.name).toBe('sim');
  }, 90_000);

  it('after the client closes, a new process takes the data dir, keeps the data and generates no second admin', async () => {
    const pid = transport.pid!;
    await client.close();
    // Wait for the first process to be gone; a process that never exits fails here, not later.
    await waitFor(`process ${pid} to exit`, () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, { timeoutMs: 30_000, everyMs: 50 });
    let stderr2 = '';
    const t2 = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp'], env, cwd: ROOT, stderr: 'pipe' });
    t2.stderr?.on('data', (d: Buffer) => (stderr2 += d.toString()));
    const c2 = new Client({ name: 'e2e-stdio-2', version: '1.0.0' });
    const errors2: Error[] = [];
    c2.onerror = (e) => errors2.push(e);
    try {
      await c2.connect(t2, { timeout: 60_000 });
      const out = structured(await c2.callTool({ name: 'accounts_get_balances', arguments: { account_name: 'master_account', connector_name: 'sim' } }));
      expect(out.connectors[0].balances).toEqual([
        { asset: 'BTC', total: 1, available: 1, locked: 0 },
        { asset: 'USDT', total: 10000, available: 10000, locked: 0 },
      ]);
      expect(stderr2).not.toContain('First start');
      expect(errors2).toEqual([]);
    } finally {
      await c2.close();
    }
  }, 90_000);
});
