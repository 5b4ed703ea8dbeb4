import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerName } from '../../src/core/bots/docker-runtime.js';
import { dockerAnswers, ensureBotImage, TEST_IMAGE } from '../helpers/docker.js';
import { mcpCall, mcpClient, type McpOutcome } from '../helpers/mcp-call.js';
import { basicHeader, testServer, type TestServer, okBody as ok } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';
import { ensureBuilt } from './dist.js';

/**
 * The bots' lifecycle as a user meets it, on a real server: real bot processes (the built `tradedesk
 * bot`) on the child runtime, the embedded broker, Postgres; over REST with HTTP Basic and over MCP
 * (toolset bots). Deploy → running → status, logs, performance → config change → stop → start →
 * archive, with the bot's fills and runs read along the way; bad input answered with field paths; a
 * trader touching another trader's bot answered as if it did not exist. With DOCKER_AVAILABLE=1 and the
 * bot image built here, the same deploy → running → stop in a container.
 */

const TRADER = basicHeader('life_trader', 'life-trader-password');
const OTHER = basicHeader('other_trader', 'other-trader-password');
/** A market buy of 5 USDT every second: fills within seconds. */
const TWAP = { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '3000', duration: 600, interval: 1 };
const PMM = { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '200', buy_spreads: [0.01], sell_spreads: [0.01] };
const issuePaths = (body: { error?: { details?: { issues?: Array<{ path: string }> } } }) => (body.error?.details?.issues ?? []).map((i) => i.path);

const docker = new Docker();
const dockerWhy = process.env.DOCKER_AVAILABLE !== '1' ? 'DOCKER_AVAILABLE is not 1' : (await dockerAnswers(docker)) ? null : 'no Docker daemon answers';

describe('a bot from deploy to archive, over REST and MCP, on a real server', () => {
  let s: TestServer;
  let mcp: Client;
  let otherMcp: Client;
  const tool = async (client: Client, name: string, args: Record<string, unknown>) => {
    const r: McpOutcome = await mcpCall(client, name, args);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    return (r as { output: any }).output;
  };

  beforeAll(async () => {
    const main = await ensureBuilt();
    // Before the server starts: the build blocks this process (and would stall a server running in it).
    // With Docker promised (DOCKER_AVAILABLE=1, as in CI), an image that cannot be built is a failure, not a skip.
    if (!dockerWhy) await ensureBotImage();
    s = await testServer('postgres', { toolsets: 'bots' }, {
      bots: {
        command: [process.execPath, main, 'bot'],
        image: TEST_IMAGE,
        orchestrator: { rpcTimeoutMs: 5_000, stopGraceMs: 5_000 },
        ingest: { flushMs: 50, knownTtlMs: 100 },
      },
    });
    ok(await s.call('POST', '/accounts', { account_name: 'life_desk', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '100000', BTC: '1' } }] }), 201);
    for (const username of ['life_trader', 'other_trader']) ok(await s.call('POST', '/users', { username, password: `${username.replace('_', '-')}-password`, role: 'trader' }), 201);
    mcp = await mcpClient(s.url, TRADER, 'e2e-life');
    otherMcp = await mcpClient(s.url, OTHER, 'e2e-life-other');
  }, 400_000);
  afterAll(async () => {
    await mcp?.close();
    await otherMcp?.close();
    await s?.stop();
    if (!dockerWhy) await docker.getContainer(containerName('life-docker')).remove({ force: true }).catch(() => undefined);
  });

  it('over REST: deploy, status, logs, fills, performance, config, stop, start, runs, archive', async () => {
    const id = 'life-rest';
    const deployed = ok(await s.call('POST', '/bot-orchestration/deploy', { bot_id: id, account_name: 'life_desk', runtime: 'child', script: { name: 'twap_buyer_v1', config: TWAP } }, TRADER), 201);
    expect(deployed.bot).toMatchObject({ bot_id: id, deployed_by: 'life_trader', runtime: 'child', desired_state: 'running', observed_state: 'running', strategy: { kind: 'script', script: { name: 'twap_buyer_v1' } } });

    const status = ok(await s.call('GET', `/bot-orchestration/bots/${id}/status`, undefined, TRADER));
    expect(status.bot.observed_state).toBe('running');
    expect(status.run).toMatchObject({ status: 'running', stopped_at: null });
    expect(status.reported).toMatchObject({ msg: 'running', data: { running: true, account: 'life_desk' } });
    expect(status.crash).toBeNull();

    // Reports are written by the ingest's buffered flush, which may land a moment after the deploy answered.
    const logs = await waitFor('the online line in its logs', async () => {
      const r = ok(await s.call('GET', `/bot-orchestration/bots/${id}/logs?limit=50`, undefined, TRADER));
      return r.logs.some((l: { message: string }) => l.message === 'availability: online') ? r : undefined;
    });
    expect(logs.bot_id).toBe(id);

    const fills = await waitFor('two fills', async () => {
      const r = ok(await s.call('GET', `/bot-orchestration/bots/${id}/history?limit=100`, undefined, TRADER));
      return r.data.length >= 2 ? r.data : undefined;
    }, { timeoutMs: 20_000, everyMs: 250 });
    expect(fills[0]).toMatchObject({ trading_pair: 'BTC-USDT', side: 'buy', fee_asset: 'USDT' });
    expect(fills[0].price).toBeGreaterThan(0);

    const perf = await waitFor('a performance report', async () => {
      const r = ok(await s.call('GET', `/bot-orchestration/bots/${id}/performance?limit=5`, undefined, TRADER));
      return r.performance.length ? r.performance : undefined;
    }, { timeoutMs: 10_000, everyMs: 250 });
    expect(perf[0]).toMatchObject({ controller_id: 'twap_buyer_v1' });

    const changed = ok(await s.call('PUT', `/bot-orchestration/bots/${id}/config`, { script_config: { max_price: '10000000' } }, TRADER));
    expect(changed.applied).toBe('bot');
    expect(changed.bot.strategy.script.config.max_price).toBe('10000000');

    const stopped = ok(await s.call('POST', `/bot-orchestration/bots/${id}/stop`, {}, TRADER));
    expect(stopped.bot).toMatchObject({ desired_state: 'stopped', observed_state: 'stopped', exit_code: 0 });
    const afterStop = ok(await s.call('GET', `/bot-orchestration/bots/${id}/status`, undefined, TRADER));
    expect(afterStop.reported).toBeNull();
    // A stopped bot's config change is kept for its next start.
    expect(ok(await s.call('PUT', `/bot-orchestration/bots/${id}/config`, { script_config: { min_order_quote: '5' } }, TRADER)).applied).toBe('stored');

    const started = ok(await s.call('POST', `/bot-orchestration/bots/${id}/start`, {}, TRADER));
    expect(started.bot).toMatchObject({ desired_state: 'running', observed_state: 'running' });
    const runs = ok(await s.call('GET', `/bot-orchestration/bots/${id}/runs`, undefined, TRADER));
    expect(runs.runs.map((r: { status: string }) => r.status)).toEqual(['running', 'stopped']);
    expect(runs.runs[1].exit_code).toBe(0);

    const archived = ok(await s.call('POST', `/bot-orchestration/bots/${id}/archive`, {}, TRADER));
    expect(archived.bot).toMatchObject({ archived: true, desired_state: 'stopped', observed_state: 'stopped' });
    const again = await s.call('POST', `/bot-orchestration/bots/${id}/start`, {}, TRADER);
    expect(again.status, again.text).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
    // What it did stays readable: every fill once, each one of the account's.
    const all = ok(await s.call('GET', `/bot-orchestration/bots/${id}/history?limit=500`, undefined, TRADER)).data as Array<{ fill_id: string }>;
    expect(all.length).toBeGreaterThanOrEqual(fills.length);
    expect(new Set(all.map((f) => f.fill_id)).size).toBe(all.length);
    const account = ok(await s.call('GET', '/trading/history?account_name=life_desk&limit=1000')).data as unknown[];
    expect(account).toHaveLength(all.length);
    expect(ok(await s.call('GET', `/bot-orchestration/bots/${id}/runs`, undefined, TRADER)).runs.map((r: { status: string }) => r.status)).toEqual(['stopped', 'stopped']);
  }, 120_000);

  it('over MCP: deploy, status, logs, performance, config, stop, start, fills, runs, archive', async () => {
    const id = 'life-mcp';
    const deployed = await tool(mcp, 'bots_deploy_bot', { bot_id: id, account_name: 'life_desk', runtime: 'child', controllers: [{ controller_name: 'pmm_simple', config: PMM }] });
    expect(deployed.bot).toMatchObject({ bot_id: id, deployed_by: 'life_trader', observed_state: 'running' });
    const status = await tool(mcp, 'bots_get_status', { bot_id: id });
    expect(status.bot.observed_state).toBe('running');
    expect(status.run.status).toBe('running');
    expect(status.reported).not.toBeNull();
    await waitFor('its first log lines', async () => ((await tool(mcp, 'bots_get_logs', { bot_id: id })).logs.length > 0 ? true : undefined));
    const perf = await waitFor('a performance report', async () => {
      const out = await tool(mcp, 'bots_get_performance', { bot_id: id, limit: 5 });
      return out.performance.length ? out.performance : undefined;
    }, { timeoutMs: 10_000, everyMs: 250 });
    expect(perf[0].controller_id).toBe('pmm_simple');

    const changed = await tool(mcp, 'bots_update_config', { bot_id: id, controllers: [{ controller_name: 'pmm_simple', config: { executor_refresh_time: 120 } }] });
    expect(changed.applied).toBe('bot');
    expect(changed.bot.strategy.controllers[0].config.executor_refresh_time).toBe(120);
    const bad = await mcpCall(mcp, 'bots_update_config', { bot_id: id, controllers: [{ controller_name: 'pmm_simple', config: { executor_refresh_time: 'soon' } }] });
    expect(bad.ok).toBe(false);
    expect(bad.ok ? null : bad.code).toBe('VALIDATION_FAILED');
    expect(issuePaths({ error: bad.ok ? undefined : bad.error })).toEqual(['controllers.0.config.executor_refresh_time']);

    expect((await tool(mcp, 'bots_stop_bot', { bot_id: id })).bot).toMatchObject({ desired_state: 'stopped', observed_state: 'stopped' });
    expect((await tool(mcp, 'bots_start_bot', { bot_id: id })).bot).toMatchObject({ desired_state: 'running', observed_state: 'running' });
    const runs = await tool(mcp, 'bots_list_runs', { bot_id: id });
    expect(runs.runs.map((r: { status: string }) => r.status)).toEqual(['running', 'stopped']);
    const fills = await tool(mcp, 'bots_list_fills', { bot_id: id });
    expect(fills.pagination).toMatchObject({ has_more: false });
    expect(Array.isArray(fills.data)).toBe(true);
    const listed = await tool(mcp, 'bots_list_bots', {});
    expect(listed.data.map((b: { bot_id: string }) => b.bot_id)).toContain(id);

    // Another trader's MCP session: the bot does not exist for it.
    const foreign = await mcpCall(otherMcp, 'bots_stop_bot', { bot_id: id });
    expect(foreign.ok ? 'ok' : foreign.code).toBe('NOT_FOUND');
    expect((await tool(otherMcp, 'bots_list_bots', {})).data).toEqual([]);

    expect((await tool(mcp, 'bots_archive_bot', { bot_id: id })).bot).toMatchObject({ archived: true, observed_state: 'stopped' });
  }, 120_000);

  it('answers bad input with 400 and the field paths, and another trader\'s bot as one that does not exist', async () => {
    const id = 'life-owned';
    ok(await s.call('POST', '/bot-orchestration/deploy', { bot_id: id, account_name: 'life_desk', runtime: 'child', start: false, controllers: [{ controller_name: 'pmm_simple', config: PMM }] }, TRADER), 201);

    const cases: Array<[string, string, string, unknown, string[]]> = [
      ['a config field of the wrong type', 'POST', '/bot-orchestration/deploy', { bot_id: 'life-bad', account_name: 'life_desk', controllers: [{ controller_name: 'pmm_simple', config: { ...PMM, total_amount_quote: 'lots' } }] }, ['controllers.0.config.total_amount_quote']],
      ['a connector the account lacks', 'POST', '/bot-orchestration/deploy', { bot_id: 'life-bad', account_name: 'life_desk', controllers: [{ controller_name: 'pmm_simple', config: { ...PMM, connector_name: 'binance_paper_trade' } }] }, ['controllers.0.config.connector_name']],
      ['an unknown script', 'POST', '/scripts/run', { bot_id: 'life-bad', account_name: 'life_desk', script_name: 'no_such_script', config: {} }, ['script_name']],
      ['a pair the connector does not list', 'POST', '/scripts/run', { bot_id: 'life-bad', account_name: 'life_desk', script_name: 'twap_buyer_v1', config: { ...TWAP, trading_pair: 'NOPE-USDT' } }, ['config.trading_pair']],
      ['a config change to a pair the connector does not list', 'PUT', `/bot-orchestration/bots/${id}/config`, { controllers: [{ controller_name: 'pmm_simple', config: { ...PMM, trading_pair: 'NOPE-USDT' } }] }, ['controllers.0.config.trading_pair']],
      ['a bad bot id', 'POST', '/bot-orchestration/deploy', { bot_id: 'Life Bad', account_name: 'life_desk', script: { name: 'twap_buyer_v1', config: TWAP } }, ['bot_id']],
      ['a config change of the wrong type', 'PUT', `/bot-orchestration/bots/${id}/config`, { controllers: [{ controller_name: 'pmm_simple', config: { buy_spreads: 'wide' } }] }, ['controllers.0.config.buy_spreads']],
      ['a config change naming another controller', 'PUT', `/bot-orchestration/bots/${id}/config`, { controllers: [{ controller_name: 'dca_v1', config: {} }] }, ['controllers.0.controller_name']],
      ['a config change without a body', 'PUT', `/bot-orchestration/bots/${id}/config`, {}, ['controllers']],
    ];
    for (const [why, method, path, body, paths] of cases) {
      const r = await s.call(method, path, body, TRADER);
      expect(r.status, `${why}: ${r.text}`).toBe(400);
      expect(r.body.error.code, why).toBe('VALIDATION_FAILED');
      expect(issuePaths(r.body), why).toEqual(expect.arrayContaining(paths));
    }
    const unlistedPair = await s.call('POST', '/scripts/run', { bot_id: 'life-bad', account_name: 'life_desk', script_name: 'twap_buyer_v1', config: { ...TWAP, trading_pair: 'NOPE-USDT' } }, TRADER);
    expect(unlistedPair.body.error.hint).toBe('GET /connectors/sim/markets lists its pairs.');
    const ghost = await s.call('POST', '/bot-orchestration/deploy', { bot_id: 'life-ghost', account_name: 'no_such_desk', script: { name: 'twap_buyer_v1', config: TWAP } });
    expect(ghost.status, ghost.text).toBe(404);
    expect(ghost.body.error.details.account_name).toBe('no_such_desk');
    expect((await s.call('GET', '/bot-orchestration/bots/life-bad/status')).status).toBe(404);

    // Another trader: every command answers as for a missing bot, and nothing changed.
    for (const [method, path, body] of [
      ['GET', `/bot-orchestration/bots/${id}/status`, undefined],
      ['GET', `/bot-orchestration/bots/${id}/logs`, undefined],
      ['GET', `/bot-orchestration/bots/${id}/history`, undefined],
      ['POST', `/bot-orchestration/bots/${id}/start`, {}],
      ['POST', `/bot-orchestration/bots/${id}/stop`, {}],
      ['PUT', `/bot-orchestration/bots/${id}/config`, { controllers: [{ controller_name: 'pmm_simple', config: { executor_refresh_time: 60 } }] }],
      ['POST', `/bot-orchestration/bots/${id}/archive`, {}],
    ] as const) {
      const r = await s.call(method, path, body, OTHER);
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(404);
      expect(r.body.error).toMatchObject({ code: 'NOT_FOUND', message: `There is no bot ${id}.` });
    }
    expect(ok(await s.call('GET', '/bot-orchestration/bots', undefined, OTHER)).data).toEqual([]);
    const mine = ok(await s.call('GET', `/bot-orchestration/bots/${id}/status`, undefined, TRADER));
    expect(mine.bot).toMatchObject({ desired_state: 'stopped', observed_state: 'stopped', archived: false });
    expect(mine.bot.strategy.controllers[0].config.executor_refresh_time).not.toBe(60);
    // The admin sees every bot.
    expect(ok(await s.call('GET', `/bot-orchestration/bots/${id}/status`)).bot.deployed_by).toBe('life_trader');
  }, 60_000);

  it.skipIf(dockerWhy)('runtime docker: deploy → running → stop in a container built from this repository', async () => {
    const id = 'life-docker';
    const deployed = ok(await s.call('POST', '/bot-orchestration/deploy', { bot_id: id, account_name: 'life_desk', runtime: 'docker', controllers: [{ controller_name: 'pmm_simple', config: PMM }] }), 201);
    expect(deployed.bot).toMatchObject({ runtime: 'docker', observed_state: 'running', image: null });
    expect((await docker.getContainer(containerName(id)).inspect()).State.Running).toBe(true);
    const status = ok(await s.call('GET', `/bot-orchestration/bots/${id}/status`));
    expect(status.reported).toMatchObject({ msg: 'running', data: { account: 'life_desk' } });
    const stopped = ok(await s.call('POST', `/bot-orchestration/bots/${id}/stop`, {}));
    expect(stopped.bot).toMatchObject({ desired_state: 'stopped', observed_state: 'stopped', exit_code: 0 });
    expect((await docker.getContainer(containerName(id)).inspect()).State.Running).toBe(false);
    ok(await s.call('POST', `/bot-orchestration/bots/${id}/archive`, {}));
  }, 60_000);
});
