import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TOOLSETS } from '../../src/tools/index.js';
import { mcpCall, mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';

const TRADER = basicHeader('strat_trader', 'strat-trader-password');
const VIEWER = basicHeader('strat_viewer', 'strat-viewer-password');
const BOLLINGER = { connector_name: 'sim', trading_pair: 'BTC-USDT' };

/** An operator's controller module, in the folder the server loads at start. */
const OPERATOR_CONTROLLER = `export default ({ z }) => ({
  name: 'range_watch_v1',
  type: 'generic',
  description: 'Watches a range; an operator module loaded from STRATEGIES_DIR.',
  config: z.strictObject({ connector_name: z.string().default('sim'), trading_pair: z.string().default('ETH-USDT'), bars: z.number().int().min(1).default(30) }),
  data: (c) => ({ candles: [{ connector: c.connector_name, tradingPair: c.trading_pair, interval: '15m', bars: c.bars }], quotes: [] }),
  warmupBars: (c) => c.bars,
  create: () => ({ update: () => [] }),
});
`;

/** An operator's controller whose code throws once it runs: a backtest of it starts, then fails in the worker. */
const FAILING_CONTROLLER = `export default ({ z }) => ({
  name: 'gives_up_v1',
  type: 'generic',
  description: 'Throws after a few updates (a broken operator module).',
  config: z.strictObject({ connector_name: z.string().default('sim'), trading_pair: z.string().default('BTC-USDT') }),
  data: (c) => ({ candles: [{ connector: c.connector_name, tradingPair: c.trading_pair, interval: '1m', bars: 5 }], quotes: [] }),
  warmupBars: () => 5,
  create: () => {
    let n = 0;
    return { update: () => { if (++n > 10) throw new Error('gave up on candle ' + n); return []; } };
  },
});
`;

describe.each(drivers())('strategy management over REST and MCP on %s', (driver) => {
  let dir: string;
  let s: TestServer;
  let mcp: Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'td-e2e-strategies-'));
    mkdirSync(join(dir, 'controllers'));
    writeFileSync(join(dir, 'controllers', 'range-watch.mjs'), OPERATOR_CONTROLLER);
    writeFileSync(join(dir, 'controllers', 'gives-up.mjs'), FAILING_CONTROLLER);
    s = await testServer(driver, { toolsets: 'default,strategies,backtesting', strategiesDir: dir });
    for (const [username, role] of [['strat_trader', 'trader'], ['strat_viewer', 'viewer']] as const) {
      const r = await s.call('POST', '/users', { username, password: `${username.replace('_', '-')}-password`, role });
      expect(r.status, r.text).toBe(201);
    }
    mcp = await mcpClient(s.url, TRADER, 'e2e-strategies');
  });
  afterAll(async () => {
    await mcp?.close();
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the shipped controllers and the operator module, each with its config schema', async () => {
    const r = await s.call('GET', '/controllers', undefined, VIEWER);
    expect(r.status, r.text).toBe(200);
    const byName = new Map((r.body.data as Array<{ name: string; source: string; type: string; config_schema: { type: string } }>).map((c) => [c.name, c]));
    expect(byName.get('bollinger_v1')).toMatchObject({ source: 'shipped', type: 'directional_trading', config_schema: { type: 'object' } });
    expect(byName.get('range_watch_v1')).toMatchObject({
      source: 'operator',
      type: 'generic',
      example_config: { connector_name: 'sim', trading_pair: 'ETH-USDT', bars: 30 },
      data_needs: { candles: [{ connector_name: 'sim', trading_pair: 'ETH-USDT', interval: '15m', bars: 30 }], quotes: [], warmup_bars: 30, executors: 'all' },
    });
    // Which executors each controller reads: the directional ones only their active ones, the market makers all.
    expect(byName.get('bollinger_v1')).toMatchObject({ data_needs: { executors: 'active' } });
    expect(byName.get('pmm_simple')).toMatchObject({ data_needs: { executors: 'all' } });
    const one = await s.call('GET', '/controllers/bollinger_v1');
    expect(one.body.controller.example_config).toMatchObject(BOLLINGER);
    expect((await s.call('GET', '/controllers/no_such_v1')).status).toBe(404);
    const scripts = await s.call('GET', '/scripts');
    expect(scripts.body.data.map((x: { name: string }) => x.name)).toEqual(['portfolio_rebalancer_v1', 'twap_buyer_v1']);
    // Every shipped strategy shows a working example, those whose schema requires fields without a default too.
    for (const e of [...r.body.data, ...scripts.body.data] as Array<{ name: string; example_config: unknown; data_needs: unknown }>) {
      expect(e.example_config, e.name).not.toBeNull();
      expect(e.data_needs, e.name).not.toBeNull();
    }
    expect(byName.get('grid_strike')).toMatchObject({ example_config: { start_price: '60000', end_price: '70000' } });
  });

  it('validates without storing: a bad config is an answer with field paths', async () => {
    const bad = await s.call('POST', '/controllers/bollinger_v1/validate', { config: { ...BOLLINGER, bb_length: 1 } });
    expect(bad.status, bad.text).toBe(200);
    expect(bad.body).toMatchObject({ valid: false, config: null, issues: [{ path: 'config.bb_length' }] });
    const good = await s.call('POST', '/scripts/portfolio_rebalancer_v1/validate', { config: { connector_name: 'sim', target_weights: { BTC: 0.5 } } });
    expect(good.body).toMatchObject({ valid: true, issues: [], config: { quote_asset: 'USDT', target_weights: { BTC: '0.5' } }, data_needs: { quotes: [{ connector_name: 'sim', trading_pair: 'BTC-USDT' }], step_seconds: 60 } });
    expect((await s.call('GET', '/controllers/configs')).body.data).toEqual([]);
  });

  it('saves, versions, hides from other users and deletes a controller config', async () => {
    const created = await s.call('POST', '/controllers/bollinger_v1/configs', { name: 'btc_bands', config: BOLLINGER }, TRADER);
    expect(created.status, created.text).toBe(201);
    const cfg = created.body.controller_config;
    expect(cfg).toMatchObject({ name: 'btc_bands', controller_name: 'bollinger_v1', owner: 'strat_trader', current_version: 1, version: { version: 1, created_by: 'strat_trader' } });
    expect(cfg.version.config.bb_length).toBe(100);
    const path = `/controllers/${cfg.config_id}/config`;

    const v2 = await s.call('PUT', path, { config: { ...BOLLINGER, bb_length: 50 }, expected_version: 1 }, TRADER);
    expect(v2.status, v2.text).toBe(200);
    expect(v2.body.controller_config).toMatchObject({ current_version: 2, version: { version: 2, config: { bb_length: 50 } } });
    // A bad config and a stale version change nothing.
    const bad = await s.call('PUT', path, { config: { ...BOLLINGER, bb_length: 'long' } }, TRADER);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('config.bb_length');
    expect((await s.call('PUT', path, { config: BOLLINGER, expected_version: 1 }, TRADER)).status).toBe(409);
    expect((await s.call('GET', path, undefined, TRADER)).body.controller_config.current_version).toBe(2);
    expect((await s.call('GET', `${path}?version=1`, undefined, TRADER)).body.controller_config.version.config.bb_length).toBe(100);
    expect((await s.call('GET', `${path}/versions`, undefined, TRADER)).body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    // Another user does not see it; a viewer may not write; an admin sees everyone's.
    expect((await s.call('GET', path, undefined, VIEWER)).status).toBe(404);
    expect((await s.call('POST', '/controllers/bollinger_v1/configs', { name: 'mine', config: BOLLINGER }, VIEWER)).body.error.code).toBe('POLICY_DENIED');
    expect((await s.call('GET', '/controllers/configs', undefined, ADMIN_AUTH)).body.data.map((c: { owner: string }) => c.owner)).toEqual(['strat_trader']);

    const del = await s.call('DELETE', path, undefined, TRADER);
    expect(del.body).toEqual({ config_id: cfg.config_id, deleted: true });
    expect((await s.call('GET', path, undefined, TRADER)).status).toBe(404);
  });

  it('refuses input nested thousands deep with its path, on every route that stores or starts a config, and stores nothing', async () => {
    // Written as text: this process could not serialize it either.
    const deepText = '{"x":'.repeat(6_000) + '1' + '}'.repeat(6_000);
    const config = { ...BOLLINGER, extra: '(deep)' };
    const text = (body: unknown) => JSON.stringify(body).replace('"(deep)"', deepText);
    const calls: Array<[string, string, unknown]> = [
      ['POST', '/controllers/bollinger_v1/configs', { name: 'deep', config }],
      ['POST', '/controllers/bollinger_v1/validate', { config }],
      ['POST', '/scripts/run', { script: 'twap_buyer_v1', instance_name: 'deep', config }],
      ['POST', '/bot-orchestration/deploy', { instance_name: 'deep', controllers: [{ controller_name: 'bollinger_v1', config }] }],
      ['POST', '/backtesting/run', { controller: { name: 'bollinger_v1', config }, connector: 'sim', trading_pair: 'BTC-USDT', start: '2024-01-01', end: '2024-01-02' }],
    ];
    for (const [method, path, body] of calls) {
      const r = await s.call(method, path, text(body), TRADER);
      expect(r.status, `${path}: ${r.text.slice(0, 300)}`).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
      expect(r.body.error.details.issues[0].message).toMatch(/nests deeper than 64 levels/);
    }
    const saved = await s.call('POST', '/controllers/bollinger_v1/configs', { name: 'shallow', config: BOLLINGER }, TRADER);
    const put = await s.call('PUT', `/controllers/${saved.body.controller_config.config_id}/config`, text({ config }), TRADER);
    expect(put.status).toBe(400);
    expect(put.body.error.details.issues[0].path).toMatch(/^config\.extra(\.x)+$/);
    expect((await s.call('GET', `/controllers/${saved.body.controller_config.config_id}/config`, undefined, TRADER)).body.controller_config.current_version).toBe(1);
    expect((await s.call('DELETE', `/controllers/${saved.body.controller_config.config_id}/config`, undefined, TRADER)).status).toBe(200);
    let deep: unknown = 1;
    for (let i = 0; i < 1_000; i++) deep = { x: deep };
    const viaMcp = await mcpCall(mcp, 'strategies_create_controller_config', { controller_name: 'bollinger_v1', name: 'deep', config: { ...BOLLINGER, extra: deep } });
    expect(!viaMcp.ok && viaMcp.code).toBe('VALIDATION_FAILED');
    expect((await s.call('GET', '/controllers/configs', undefined, TRADER)).body.data).toEqual([]);
  });

  it("backtests the operator's controller: the worker thread reads its module as the catalog did", async () => {
    const start = Date.UTC(2024, 0, 1);
    const r = await s.call('POST', '/backtesting/run', {
      controller: { name: 'range_watch_v1', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', bars: 5 } },
      connector: 'sim',
      trading_pair: 'BTC-USDT',
      start: new Date(start).toISOString(),
      end: start + 86_400_000 - 60_000,
      resolution: '1m',
      wait_seconds: 30,
    });
    expect(r.status, r.text).toBe(202);
    expect(r.body.job.status, JSON.stringify(r.body.job.error)).toBe('succeeded');
    expect(r.body.summary).toMatchObject({ candles: 1440, executors: 0 });
  });

  it('a backtest that fails after it started: REST shows the failed job, MCP answers with an error naming it', async () => {
    const start = Date.UTC(2024, 0, 1);
    const spec = { controller: { name: 'gives_up_v1', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: new Date(start).toISOString(), end: start + 3_600_000, wait_seconds: 30 };
    const r = await s.call('POST', '/backtesting/run', spec, TRADER);
    expect(r.status, r.text).toBe(202);
    expect(r.body.job).toMatchObject({ status: 'failed', error: { code: 'PRECONDITION_FAILED' } });
    expect(r.body.job.error.message).toContain('gave up on candle 11');
    expect(r.body.summary).toBeNull();

    const viaMcp = await mcpCall(mcp, 'backtesting_run_backtest', spec);
    expect(viaMcp.ok).toBe(false);
    const err = !viaMcp.ok ? viaMcp.error : null;
    expect(err).toMatchObject({ code: 'PRECONDITION_FAILED', details: { status: 'failed', job_error_code: 'PRECONDITION_FAILED' } });
    expect(err?.message).toContain('gave up on candle 11');
    // The job it names is there to read, failed, as REST showed it.
    const job = await s.call('GET', `/jobs/${(err?.details as { job_id: string }).job_id}`, undefined, TRADER);
    expect(job.body.job).toMatchObject({ status: 'failed', kind: 'backtest' });
  });

  it('serves the strategies toolset over MCP when asked for (it is not a default toolset)', async () => {
    expect(DEFAULT_TOOLSETS).not.toContain('strategies');
    const { tools } = await mcp.listTools();
    expect(tools.filter((t) => t.name.startsWith('strategies_')).length).toBe(12);
    const saved = await mcpCall(mcp, 'strategies_create_controller_config', { controller_name: 'range_watch_v1', name: 'eth_range', config: { bars: 12 } });
    expect(saved.ok).toBe(true);
    expect(saved.ok && saved.output.controller_config.version.config).toEqual({ connector_name: 'sim', trading_pair: 'ETH-USDT', bars: 12 });
    const refused = await mcpCall(mcp, 'strategies_create_controller_config', { controller_name: 'range_watch_v1', name: 'eth_range_2', config: { bars: 0 } });
    expect(!refused.ok && refused.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ path: 'config.bars' }] } });
    // The same config over REST, as the same user.
    const listed = await s.call('GET', '/controllers/configs?controller_name=range_watch_v1', undefined, TRADER);
    expect(listed.body.data.map((c: { name: string }) => c.name)).toEqual(['eth_range']);
  });
});
