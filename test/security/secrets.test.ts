import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { createLogger } from '../../src/core/logger.js';
import { MASK, maskSecret, redactText, redactValue, registerSecret } from '../../src/core/secrets/redact.js';
import { loadVaultKey, parseVaultKey, Vault } from '../../src/core/secrets/vault.js';
import { createServices, type Services } from '../../src/app/services.js';
import { expectError } from '../helpers/errors.js';
import { offlineBinance, type OfflineExchange } from '../helpers/offline-exchange.js';
import { ADMIN_AUTH, drivers, httpJson, testEnv, type TestEnv } from '../helpers/test-env.js';

type Rows = Array<Record<string, unknown>>;

async function rows(db: Services['db'], query: SQL): Promise<Rows> {
  return ((await db.execute(query)) as unknown as { rows: Rows }).rows;
}

/** Every row of every table in the public schema, as one JSON text. */
async function dumpDatabase(db: Services['db']): Promise<{ text: string; tables: string[] }> {
  const tables = (await rows(db, sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`)).map((r) =>
    String(r.table_name),
  );
  const all: Record<string, Rows> = {};
  for (const t of tables) all[t] = await rows(db, sql`select * from ${sql.identifier(t)}`);
  return { text: JSON.stringify(all), tables };
}

describe.each(drivers())('exchange secrets on %s', (driver) => {
  // Distinctive values so that any copy of them, anywhere, is found.
  const tag = randomBytes(4).toString('hex');
  const API_KEY = `AKsecret${tag}ApiKeyValue0123456789`;
  const SECRET = `SEsecret${tag}-the-exchange-secret-value`;
  const PASSWORD = `PWsecret${tag}-exchange-passphrase`;
  const TYPO_SECRET = `TYsecret${tag}-under-a-misspelled-field`;
  const ALL = [API_KEY, SECRET, PASSWORD];

  let env: TestEnv;
  let server: RunningServer;
  // Binance on a local server that hangs up: nothing here reaches a real exchange, connected or not.
  let offline: OfflineExchange;
  const logLines: string[] = [];

  const call = (method: string, path: string, body?: unknown) => httpJson(server.url, method, path, body);

  const expectClean = (text: string, what: string, secrets: string[] = ALL) => {
    for (const sec of secrets) expect(text.includes(sec), `${what} contains the secret ${sec}`).toBe(false);
  };

  beforeAll(async () => {
    env = await testEnv(driver);
    offline = await offlineBinance();
    // A debug-level logger so that everything the server could log is captured.
    server = await startServer(env.config, createLogger('debug', {}, (line) => logLines.push(line)), { ccxt: offline.ccxt });
    const r = await call('POST', '/accounts', {
      account_name: 'vaulted',
      connectors: [{ connector_name: 'binance', credentials: { api_key: API_KEY, secret: SECRET, password: PASSWORD } }, { connector_name: 'sim' }],
    });
    expect(r.status, r.text).toBe(201);
    expectClean(r.text, 'the create response');
  });

  afterAll(async () => {
    await server?.close();
    await env?.cleanup();
    await offline?.close();
  });

  it('the create response shows only masked credentials', async () => {
    const list = await call('GET', '/accounts');
    const binance = list.body.data.find((a: { account_name: string }) => a.account_name === 'vaulted').connectors.find((c: { connector_name: string }) => c.connector_name === 'binance');
    expect(binance.credentials).toEqual({ api_key: maskSecret(API_KEY), secret: MASK, password: MASK });
    expect(maskSecret(API_KEY)).toBe(`${API_KEY.slice(0, 3)}${MASK}${API_KEY.slice(-3)}`);
  });

  it('no table holds a plaintext secret (credentials rows, audit journal, everything else)', async () => {
    await server.services.audit.flush();
    const connectorsRows = await rows(server.services.db, sql`select * from account_connectors`);
    const binanceRow = connectorsRows.find((r) => r.account_name === 'vaulted' && r.connector_name === 'binance')!;
    expect(String(binanceRow.secret_box)).toMatch(/^v1\./);
    expectClean(JSON.stringify(connectorsRows), 'account_connectors');

    const audit = await rows(server.services.db, sql`select * from audit_events where command = 'accounts_create_account'`);
    expect(audit.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(audit)).toContain('vaulted');
    expectClean(JSON.stringify(audit), 'audit_events');

    const { text, tables } = await dumpDatabase(server.services.db);
    expect(tables).toEqual(expect.arrayContaining(['account_connectors', 'accounts', 'audit_events', 'paper_balances', 'settings', 'users']));
    expectClean(text, 'the database');
  });

  it('the sealed box opens only under its own account and connector', async () => {
    const [row] = await rows(server.services.db, sql`select secret_box from account_connectors where account_name = 'vaulted' and connector_name = 'binance'`);
    const box = String(row!.secret_box);
    expect(server.services.vault.openJson(box, 'account:vaulted/connector:binance')).toEqual({ api_key: API_KEY, secret: SECRET, password: PASSWORD });
    expect(() => server.services.vault.open(box, 'account:master_account/connector:binance')).toThrow();
    expect(() => server.services.vault.open(box, 'account:vaulted/connector:binance_perpetual')).toThrow();
  });

  it('a box copied onto another account row does not open there, and nothing leaks', async () => {
    const [row] = await rows(server.services.db, sql`select secret_box from account_connectors where account_name = 'vaulted' and connector_name = 'binance'`);
    await server.services.db.execute(
      sql`insert into account_connectors (account_name, connector_name, secret_box, masked) values ('master_account', 'binance', ${String(row!.secret_box)}, '{}'::jsonb)`,
    );
    try {
      const before = offline.connections();
      const r = await call('GET', '/accounts/master_account/balances?connector_name=binance');
      // Refused as unopenable credentials before any exchange call: had the box opened under the wrong
      // account, the server would have gone to the (offline) exchange and answered 503 instead.
      expectError(r, 412, 'PRECONDITION_FAILED');
      expect(offline.connections()).toBe(before);
      expectClean(r.text, 'the balances response');
    } finally {
      await server.services.db.execute(sql`delete from account_connectors where account_name = 'master_account' and connector_name = 'binance'`);
    }
  });

  it('no GET route returns a secret', async () => {
    const paths = [
      '/accounts',
      '/accounts?limit=1',
      '/accounts/vaulted/balances',
      '/accounts/vaulted/balances?connector_name=binance',
      '/accounts/vaulted/balances?connector_name=sim',
      '/accounts/master_account/balances',
      '/connectors/binance',
      '/connectors?search=binance',
      '/connectors/binance/markets',
      '/connectors/binance/trading-rules',
      '/openapi.json',
      '/docs/',
      '/health',
      '/health/live',
      '/docker/running',
      '/docker/available-images',
      '/docker/active-containers',
      '/docker/exited-containers',
      '/docker/allowed-images',
      '/market-data/ticker/BTC-USDT?connector_name=sim',
      '/market-data/orderbook/BTC-USDT?connector_name=sim',
      '/market-data/candles/BTC-USDT?connector_name=sim',
      '/market-data/trades/BTC-USDT?connector_name=sim',
      '/trading/orders?status=all',
      '/trading/orders?account_name=vaulted',
      '/trading/orders/secrets-resting',
      '/trading/orders/secrets-binance?account_name=vaulted',
      '/trading/positions',
      '/trading/history',
      '/trading/history?account_name=vaulted',
      '/portfolio/balances',
      '/portfolio/balances?account_names=vaulted',
      '/portfolio/distribution',
      '/portfolio/history',
      '/portfolio/performance',
      '/users',
      '/safety/status',
      '/safety/status?account_name=vaulted',
      '/audit/events?limit=1000',
      '/audit/events?account_name=vaulted',
      '/trading/approvals',
      '/trading/approvals/apr_AAAAAAAAAAAAAAAA',
      '/jobs',
      '/jobs/job_AAAAAAAAAAAAAAAA',
      '/backtesting/results',
      '/backtesting/results/job_AAAAAAAAAAAAAAAA',
      '/backtesting/metrics/job_AAAAAAAAAAAAAAAA',
      '/backtesting/optimizations',
      '/backtesting/optimizations/job_AAAAAAAAAAAAAAAA',
      '/controllers',
      '/controllers/configs',
      '/controllers/bollinger_v1',
      '/controllers/cfg_AAAAAAAAAAAAAAAA/config',
      '/controllers/cfg_AAAAAAAAAAAAAAAA/config/versions',
      '/scripts',
      '/scripts/twap_buyer_v1',
      '/executors',
      '/executors/summary',
      '/executors/ex_missing',
      '/bot-orchestration/bots?include_archived=true',
      ...['status', 'logs', 'history', 'performance', 'events', 'runs'].map((tail) => `/bot-orchestration/bots/no-such-bot/${tail}`),
    ];
    const NOT_200: Record<string, [number, string]> = {
      '/accounts/vaulted/balances?connector_name=binance': [503, 'UPSTREAM_UNAVAILABLE'],
      '/connectors/binance/markets': [503, 'UPSTREAM_UNAVAILABLE'],
      '/connectors/binance/trading-rules': [503, 'UPSTREAM_UNAVAILABLE'],
      '/trading/orders/secrets-binance?account_name=vaulted': [404, 'NOT_FOUND'],
      '/trading/approvals/apr_AAAAAAAAAAAAAAAA': [404, 'NOT_FOUND'],
      '/jobs/job_AAAAAAAAAAAAAAAA': [404, 'NOT_FOUND'],
      '/backtesting/results/job_AAAAAAAAAAAAAAAA': [404, 'NOT_FOUND'],
      '/backtesting/metrics/job_AAAAAAAAAAAAAAAA': [404, 'NOT_FOUND'],
      '/backtesting/optimizations/job_AAAAAAAAAAAAAAAA': [404, 'NOT_FOUND'],
      '/controllers/cfg_AAAAAAAAAAAAAAAA/config': [404, 'NOT_FOUND'],
      '/controllers/cfg_AAAAAAAAAAAAAAAA/config/versions': [404, 'NOT_FOUND'],
      '/executors/ex_missing': [404, 'NOT_FOUND'],
      ...Object.fromEntries(['status', 'logs', 'history', 'performance', 'events', 'runs'].map((tail) => [`/bot-orchestration/bots/no-such-bot/${tail}`, [404, 'NOT_FOUND'] as [number, string]])),
    };
    // Orders on the account that holds the secrets: one on sim that rests, one refused on the live connector.
    const t = await call('GET', '/market-data/ticker/BTC-USDT?connector_name=sim');
    const resting = await call('POST', '/trading/orders', {
      account_name: 'vaulted',
      connector_name: 'sim',
      trading_pair: 'BTC-USDT',
      side: 'buy',
      order_type: 'limit',
      amount: '0.001',
      price: (Math.round(t.body.bid * 50) / 100).toFixed(2),
      client_order_id: 'secrets-resting',
    });
    expect(resting.status, resting.text).toBe(201);
    const live = await call('POST', '/trading/orders', { account_name: 'vaulted', connector_name: 'binance', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001', client_order_id: 'secrets-binance' });
    // A new account trades paper only: the live order is refused by policy before it reaches the exchange.
    expect(expectError(live, 403, 'POLICY_DENIED').details).toMatchObject({ check: 'live_mode' });
    expectClean(live.text, 'the refused live order');
    for (const p of paths) {
      const r = await call('GET', p);
      // Each route has one right answer: 200, except the calls that need the (offline) exchange and
      // the refused live order, which was never stored.
      const expected = NOT_200[p];
      if (expected) expectError(r, expected[0], expected[1]);
      else expect(r.status, `GET ${p}: ${r.text.slice(0, 200)}`).toBe(200);
      expectClean(r.text, `GET ${p}`);
    }
    // The route list above covers every GET command route.
    const openapi = (await call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    // The WebSocket streams' upgrades are GETs too; what they carry is masked and tested in bot-stream and market-stream.
    const getRoutes = Object.entries(openapi.paths)
      .filter(([, ops]) => 'get' in ops && !('x-websocket-client-message' in (ops.get as object)))
      .map(([p]) => p);
    for (const route of getRoutes) {
      const re = new RegExp(`^${route.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?|$)`);
      expect(paths.some((p) => re.test(p)), `GET ${route} is not exercised`).toBe(true);
    }
  });

  it('the update response and a failed update do not return secrets', async () => {
    const r = await call('PUT', '/accounts/vaulted', { connectors: [{ connector_name: 'binance', credentials: { api_key: API_KEY, secret: SECRET, password: PASSWORD } }] });
    expect(r.status).toBe(200);
    expectClean(r.text, 'the update response');
    const bad = await call('PUT', '/accounts/vaulted', { connectors: [{ connector_name: 'binance', credentials: { api_key: API_KEY } }] });
    expect(bad.status).toBe(400);
    expectClean(bad.text, 'the failed update response');
    const toSim = await call('PUT', '/accounts/vaulted', { connectors: [{ connector_name: 'sim', credentials: { secret: SECRET } }] });
    expect(toSim.status).toBe(400);
    expectClean(toSim.text, 'the refused sim credentials response');
  });

  it('no MCP tool result contains a secret', async () => {
    const client = new Client({ name: 'secrets', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: ADMIN_AUTH } } }));
    try {
      const args: Record<string, Array<Record<string, unknown>>> = {
        connectors_list_connectors: [{}, { search: 'binance' }],
        connectors_get_connector: [{ connector_name: 'binance' }],
        connectors_get_trading_rules: [{ connector_name: 'sim' }, { connector_name: 'binance' }],
        connectors_list_markets: [{ connector_name: 'sim' }, { connector_name: 'binance' }],
        accounts_list_accounts: [{}],
        accounts_get_balances: [{ account_name: 'vaulted' }, { account_name: 'vaulted', connector_name: 'binance' }],
        market_data_get_ticker: [{ connector_name: 'sim', trading_pair: 'BTC-USDT' }],
        market_data_get_order_book: [{ connector_name: 'sim', trading_pair: 'BTC-USDT' }],
        market_data_get_candles: [{ connector_name: 'sim', trading_pair: 'BTC-USDT' }],
        market_data_get_trades: [{ connector_name: 'sim', trading_pair: 'BTC-USDT' }],
        trading_place_order: [
          { account_name: 'vaulted', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.0001' },
          { account_name: 'vaulted', connector_name: 'binance', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' },
        ],
        trading_list_orders: [{ status: 'all' }, { account_name: 'vaulted', status: 'all' }],
        trading_get_order: [{ order_id: 'secrets-resting' }, { order_id: 'no-such-order' }],
        trading_cancel_order: [{ order_id: 'secrets-resting', account_name: 'vaulted' }],
        trading_list_positions: [{}, { account_name: 'vaulted' }],
        trading_list_fills: [{}, { account_name: 'vaulted' }],
        trading_close_position: [{ account_name: 'vaulted', connector_name: 'binance', trading_pair: 'BTC-USDT' }, { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' }],
        portfolio_get_balances: [{}, { account_names: ['vaulted'] }],
        portfolio_get_distribution: [{}],
        portfolio_get_history: [{}],
        portfolio_get_performance: [{}, { account_names: ['vaulted'], window: 'all' }],
        trading_preview_order: [{ account_name: 'vaulted', connector_name: 'binance', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' }],
        trading_set_leverage: [{ account_name: 'vaulted', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', leverage: 2 }],
        safety_get_status: [{}, { account_name: 'vaulted' }],
        safety_set_kill_switch: [{ account_name: 'vaulted', reason: 'secrets check', cancel_open_orders: true }],
        audit_search_events: [{ limit: 1000 }, { account_name: 'vaulted' }],
        approvals_list_approvals: [{}],
        approvals_get_approval: [{ approval_id: 'apr_AAAAAAAAAAAAAAAA' }],
      };
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(args).sort());
      for (const t of tools) {
        // No tool takes credentials as an argument.
        expect(JSON.stringify(t.inputSchema)).not.toMatch(/api_key|"secret"|credentials/);
        for (const a of args[t.name]!) {
          const result = await client.callTool({ name: t.name, arguments: a });
          expectClean(JSON.stringify(result), `${t.name}(${JSON.stringify(a)})`);
        }
      }
      // REST-only admin commands refuse over MCP, even carrying secrets, without echoing them.
      const refused = await client.callTool({
        name: 'accounts_update_account',
        arguments: { account_name: 'vaulted', connectors: [{ connector_name: 'binance', credentials: { api_key: API_KEY, secret: SECRET } }] },
      });
      expect(refused.isError).toBe(true);
      expectClean(JSON.stringify(refused), 'the refused MCP update');
    } finally {
      await client.close();
    }
  });

  it('a secret under a misspelled credential field is refused and kept out of the audit journal', async () => {
    const r = await call('POST', '/accounts', {
      account_name: 'typo',
      connectors: [{ connector_name: 'binance', credentials: { api_key: API_KEY, secert: TYPO_SECRET } }],
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expectClean(r.text, 'the refusal', [TYPO_SECRET, API_KEY]);
    await server.services.audit.flush();
    const audit = await rows(server.services.db, sql`select * from audit_events where command = 'accounts_create_account' and outcome = 'VALIDATION_FAILED'`);
    expect(audit.length).toBeGreaterThanOrEqual(1);
    expectClean(JSON.stringify(audit), 'audit_events', [API_KEY, TYPO_SECRET]);
  });

  it('the server log never contains a secret', async () => {
    await server.services.audit.flush();
    expect(logLines.length).toBeGreaterThan(0);
    expectClean(logLines.join(''), 'the log', [...ALL, TYPO_SECRET]);
  });

  it('a restart with another vault key is refused', async () => {
    const other = await testEnv(driver);
    try {
      const first = await createServices(other.config, createLogger('silent'));
      await first.services.close();
      await expect(createServices({ ...other.config, vaultKey: randomBytes(32).toString('hex') }, createLogger('silent'))).rejects.toThrow(/vault key differs/);
      // The right key still opens.
      const again = await createServices(other.config, createLogger('silent'));
      await again.services.close();
    } finally {
      await other.cleanup();
    }
  });
});

describe('Vault', () => {
  const vault = new Vault(randomBytes(32));

  it('round-trips under the same additional data', () => {
    const box = vault.seal('plain text', 'account:a/connector:binance');
    expect(box).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(box).not.toContain('plain');
    expect(vault.open(box, 'account:a/connector:binance')).toBe('plain text');
  });

  it('does not open under another account or connector name', () => {
    const box = vault.sealJson({ secret: 'abc' }, 'account:a/connector:binance');
    expect(() => vault.open(box, 'account:b/connector:binance')).toThrow();
    expect(() => vault.open(box, 'account:a/connector:okx')).toThrow();
    expect(() => vault.open(box, '')).toThrow();
  });

  it('does not open with another key, or when tampered with', () => {
    const box = vault.seal('secret', 'aad');
    expect(() => new Vault(randomBytes(32)).open(box, 'aad')).toThrow();
    const [v, iv, tag, ct] = box.split('.') as [string, string, string, string];
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => vault.open([v, iv, tag, flipped.toString('base64url')].join('.'), 'aad')).toThrow();
    expect(() => vault.open([v, iv, Buffer.alloc(16).toString('base64url'), ct].join('.'), 'aad')).toThrow();
    expect(() => vault.open('v2.a.b.c', 'aad')).toThrow(/not a vault box/);
    expect(() => vault.open('garbage', 'aad')).toThrow(/not a vault box/);
  });

  it('uses a fresh IV for every seal', () => {
    const a = vault.seal('same', 'aad');
    const b = vault.seal('same', 'aad');
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new Vault(randomBytes(16))).toThrow(/32 bytes/);
    expect(() => parseVaultKey('abcd')).toThrow(/32 bytes/);
    expect(parseVaultKey('ab'.repeat(32))).toHaveLength(32);
    expect(parseVaultKey(randomBytes(32).toString('base64'))).toHaveLength(32);
  });

  it('has a stable public fingerprint that differs between keys', () => {
    const key = randomBytes(32);
    expect(new Vault(key).fingerprint()).toBe(new Vault(Buffer.from(key)).fingerprint());
    expect(new Vault(key).fingerprint()).not.toBe(new Vault(randomBytes(32)).fingerprint());
    expect(new Vault(key).fingerprint()).not.toContain(key.toString('hex').slice(0, 8));
  });
});

describe('loadVaultKey', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'td-vault-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a key file with mode 0600 (in a 0700 directory) and reads it back', () => {
    const file = join(dir, 'nested', 'vault.key');
    const first = loadVaultKey(undefined, file);
    expect(first.source).toBe('generated');
    expect(first.key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.key.toString('hex'));
    const second = loadVaultKey(undefined, file);
    expect(second.source).toBe('file');
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('tightens a key file readable by others back to 0600', () => {
    const file = join(dir, 'loose.key');
    writeFileSync(file, randomBytes(32).toString('hex'));
    chmodSync(file, 0o644);
    expect(loadVaultKey(undefined, file).source).toBe('file');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('prefers VAULT_KEY and then writes no file', () => {
    const file = join(dir, 'unused.key');
    const hex = randomBytes(32).toString('hex');
    const r = loadVaultKey(hex, file);
    expect(r.source).toBe('env');
    expect(r.key.toString('hex')).toBe(hex);
    expect(() => statSync(file)).toThrow();
  });
});

describe('log redaction', () => {
  it('masks registered secrets in every log line, including error causes', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', { component: 'test' }, (l) => lines.push(l));
    const value = `reg-${randomBytes(6).toString('hex')}-secret`;
    registerSecret(value);
    logger.info(`calling with ${value}`, { header: `Bearer ${value}`, nested: { deep: [value] } });
    logger.error('failed', { err: new Error(`upstream said ${value}`, { cause: new Error(value) }) });
    logger.child({ req: value }).warn('child line');
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(l).not.toContain(value);
      expect(l).toContain(MASK);
      expect(() => JSON.parse(l)).not.toThrow();
    }
  });

  it('respects the level and writes one JSON line per event', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', {}, (l) => lines.push(l));
    logger.debug('no');
    logger.info('no');
    logger.warn('yes', { n: 1 });
    logger.error('yes too');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.endsWith('\n') && l.split('\n').length === 2)).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', msg: 'yes', n: 1 });
    const silent: string[] = [];
    createLogger('silent', {}, (l) => silent.push(l)).error('nothing');
    expect(silent).toEqual([]);
  });

  it('a value opened by the vault is masked in later log lines', () => {
    const vault = new Vault(randomBytes(32));
    const value = `vault-${randomBytes(6).toString('hex')}-opened`;
    const box = vault.sealJson({ secret: value }, 'aad');
    const before = redactText(`x ${value}`);
    expect(before).toContain(value);
    vault.openJson(box, 'aad');
    expect(redactText(`x ${value}`)).toBe(`x ${MASK}`);
  });

  it('redactValue masks secret-looking keys at any depth', () => {
    expect(redactValue({ api_key: 'a', apiKey: 'b', privateKey: 'c', password: 'd', token: 'e', authorization: 'f', name: 'n', inner: [{ passphrase: 'g' }] })).toEqual({
      api_key: MASK,
      apiKey: MASK,
      privateKey: MASK,
      password: MASK,
      token: MASK,
      authorization: MASK,
      name: 'n',
      inner: [{ passphrase: MASK }],
    });
  });
});
