import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TOOLSETS } from '../../src/tools/index.js';
import { mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
const START = Date.UTC(2024, 0, 1);
const TRADER = basicHeader('bt_trader', 'bt-trader-password');

/** bollinger_v1 on sim over `days` days of 1m candles. */
const spec = (days: number, config: Record<string, unknown> = {}) => ({
  controller: { name: 'bollinger_v1', config },
  connector: 'sim',
  trading_pair: 'BTC-USDT',
  start: new Date(START).toISOString(),
  end: START + days * DAY - MINUTE,
  resolution: '1m',
  trade_cost: 0.001,
});

describe.each(drivers())('backtesting over REST and MCP on %s', (driver) => {
  let s: TestServer;
  let mcp: Client;

  const job = async (id: string, auth = ADMIN_AUTH) => {
    const r = await s.call('GET', `/backtesting/results/${id}`, undefined, auth);
    expect(r.status, r.text).toBe(200);
    return r.body;
  };
  const ended = (id: string) =>
    waitFor(`backtest ${id} to end`, async () => {
      const b = await job(id);
      return ['queued', 'running'].includes(b.job.status) ? undefined : b;
    }, { timeoutMs: 120_000, everyMs: 50 });
  const backtestCount = async () => {
    const r = await s.call('GET', '/backtesting/results?limit=200');
    expect(r.status, r.text).toBe(200);
    return r.body.data.length as number;
  };

  beforeAll(async () => {
    s = await testServer(driver, { toolsets: 'default,backtesting' });
    mcp = await mcpClient(s.url, ADMIN_AUTH, 'backtesting');
    const r = await s.call('POST', '/users', { username: 'bt_trader', password: 'bt-trader-password', role: 'trader' });
    expect(r.status, r.text).toBe(201);
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await s?.stop();
  });

  it('refuses a bad controller config, an unknown controller and a future range with field paths, and starts no job', async () => {
    const before = await backtestCount();
    const bad = await s.call('POST', '/backtesting/run', spec(1, { bb_length: -5 }));
    expect(bad.status, bad.text).toBe(400);
    expect(bad.body.error.details.issues.map((i: { path: string }) => i.path)).toContain('controller.config.bb_length');
    const { controller: _, ...noController } = spec(1);
    expect((await s.call('POST', '/backtesting/run', noController)).body.error.details.issues).toEqual([{ path: 'controller', message: expect.stringMatching(/^give the controller to run/) }]);
    expect((await s.call('POST', '/backtesting/run', { ...spec(1), controller_config_version: 2 })).body.error.details.issues).toEqual([{ path: 'controller_config_version', message: expect.stringContaining('give controller_config_id too') }]);
    const stray = await s.call('POST', '/backtesting/run', spec(1, { bogus: 1 }));
    expect(stray.body.error.details.issues).toEqual([{ path: 'controller.config.bogus', message: 'not a field of this config' }]);
    expect(stray.body.error.message).toBe('Invalid controller config: bogus: not a field of this config');
    const unknown = await s.call('POST', '/backtesting/run', { ...spec(1), controller: { name: 'no_such_v1', config: {} } });
    expect(unknown.status, unknown.text).toBe(404);
    expect(unknown.body.error.details.issues[0].path).toBe('controller.name');
    const future = await s.call('POST', '/backtesting/run', { ...spec(1), end: Date.now() + DAY });
    expect(future.status, future.text).toBe(400);
    expect(future.body.error.details.issues[0].path).toBe('end');
    // The candle open now has not closed: a range that holds it would not give the same answer twice.
    const hour = 3_600_000;
    const current = Math.floor(Date.now() / hour) * hour;
    const open = await s.call('POST', '/backtesting/run', { ...spec(1, { interval: '1h' }), resolution: '1h', start: current - 5 * hour, end: current });
    expect(open.status, open.text).toBe(400);
    expect(open.body.error.details.issues[0]).toEqual({ path: 'end', message: expect.stringContaining('the 1h candle it reaches has not closed yet') });
    const reversed = await s.call('POST', '/backtesting/run', { ...spec(1), start: START + DAY, end: START });
    expect(reversed.status, reversed.text).toBe(400);
    // A one-day range whose controller looks back 5,000 weekly candles: 50 million 1m candles of warm-up.
    const deep = await s.call('POST', '/backtesting/run', spec(1, { interval: '1w', bb_length: 5000 }));
    expect(deep.status, deep.text).toBe(400);
    expect(deep.body.error.details.issues[0]).toEqual({ path: 'controller.config', message: expect.stringContaining('reads 50400000 1m candles before the start') });
    // What only the run used to find out: a resolution that does not divide the controller interval, a
    // connector the server does not have, a pair the connector does not list.
    const coarse = await s.call('POST', '/backtesting/run', { ...spec(1, { interval: '3m' }), resolution: '5m' });
    expect(coarse.status, coarse.text).toBe(400);
    expect(coarse.body.error.details.issues[0]).toEqual({ path: 'resolution', message: 'the controller reads 3m candles, which 5m does not divide; use 1m, 3m' });
    const noConnector = await s.call('POST', '/backtesting/run', { ...spec(1), connector: 'no_such_exchange' });
    expect(noConnector.status, noConnector.text).toBe(400);
    expect(noConnector.body.error.details.issues[0].path).toBe('connector');
    const noPair = await s.call('POST', '/backtesting/run', { ...spec(1), trading_pair: 'NOPE-USDT' });
    expect(noPair.status, noPair.text).toBe(400);
    expect(noPair.body.error).toMatchObject({ details: { issues: [{ path: 'trading_pair' }] }, hint: 'GET /connectors/sim/markets lists its pairs.' });
    // Before sim's history there is no candle: it used to "succeed" on none.
    const early = await s.call('POST', '/backtesting/run', { ...spec(1), start: '2010-01-01T00:00:00Z', end: '2010-01-01T23:59:00Z' });
    expect(early.status, early.text).toBe(400);
    expect(early.body.error.details.issues).toEqual([{ path: 'start', message: 'sim has candles from 2015-01-01T00:00:00.000Z on' }]);
    expect(await backtestCount()).toBe(before);
  });

  it('runs a backtest to the end within wait_seconds, stores its result and metrics, and gives the same digest twice', async () => {
    const r = await s.call('POST', '/backtesting/run', { ...spec(3), wait_seconds: 30 });
    expect(r.status, r.text).toBe(202);
    expect(r.body.job.status).toBe('succeeded');
    expect(r.body.job.progress_message).toMatch(/^done: 4320 candles/);
    const summary = r.body.summary;
    expect(summary.candles).toBe(3 * 1440);
    expect(summary.gaps).toBe(0);
    expect(summary.metrics.total_executors).toBe(summary.executors);
    expect(summary.equity_curve.time.length).toBeGreaterThan(1);
    expect(summary.equity_curve.time.length).toBeLessThanOrEqual(60);
    expect(summary.equity_curve.pnl).toHaveLength(summary.equity_curve.time.length);

    const full = await job(r.body.job.job_id);
    expect(full.result.candles).toBe(3 * 1440);
    expect(full.result.executors).toHaveLength(summary.executors);
    expect(full.result.series.time.length).toBe(full.result.series.pnl.length);
    expect(full.result.metrics).toEqual(summary.metrics);
    const metrics = await s.call('GET', `/backtesting/metrics/${r.body.job.job_id}`);
    expect(metrics.status, metrics.text).toBe(200);
    expect(metrics.body.summary.digest).toBe(summary.digest);

    const again = await s.call('POST', '/backtesting/run', { ...spec(3), wait_seconds: 30 });
    expect(again.body.job.status).toBe('succeeded');
    expect(again.body.summary.digest).toBe(summary.digest);
    expect(again.body.job.job_id).not.toBe(r.body.job.job_id);
  });

  it('says in the summary when executors ended without trading, and why', async () => {
    // Spot, starting with no base (the default balances): every short the controller opens is refused.
    const r = await s.call('POST', '/backtesting/run', { ...spec(3, { interval: '1m', total_amount_quote: '1000' }), wait_seconds: 30 });
    expect(r.status, r.text).toBe(202);
    expect(r.body.job.status).toBe('succeeded');
    const { summary } = r.body;
    const refused = summary.metrics.close_types.INSUFFICIENT_BALANCE;
    expect(refused).toBeGreaterThan(0);
    expect(summary.notes).toEqual([expect.stringMatching(new RegExp(`^${refused.toLocaleString('en-US')} executors? of ${summary.executors.toLocaleString('en-US')} ended INSUFFICIENT_BALANCE without trading: on a spot market a sell needs base, .*initial_balances\\.base is 0`))]);
    // With base to sell, the same run has nothing to say.
    const funded = await s.call('POST', '/backtesting/run', { ...spec(3, { interval: '1m', total_amount_quote: '1000' }), initial_balances: { base: '1', quote: '100000' }, wait_seconds: 30 });
    expect(funded.body.job.status).toBe('succeeded');
    expect(funded.body.summary.metrics.close_types.INSUFFICIENT_BALANCE).toBeUndefined();
    expect(funded.body.summary.notes).toEqual([]);
  });

  it('runs a saved controller config by id, the same as that config inline', async () => {
    const cfg = await s.call('POST', '/controllers/bollinger_v1/configs', { name: 'bt_saved', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', bb_length: 30, bb_std: 2.5 } });
    expect(cfg.status, cfg.text).toBe(201);
    const { controller, ...rest } = spec(1);
    const byId = await s.call('POST', '/backtesting/run', { ...rest, controller_config_id: cfg.body.controller_config.config_id, wait_seconds: 30 });
    expect(byId.status, byId.text).toBe(202);
    expect(byId.body.job.input.controller).toEqual({ name: 'bollinger_v1', config: expect.objectContaining({ bb_length: 30, bb_std: 2.5 }) });
    const inline = await s.call('POST', '/backtesting/run', { ...rest, controller: { name: controller.name, config: byId.body.job.input.controller.config }, wait_seconds: 30 });
    expect(inline.body.summary.digest).toBe(byId.body.summary.digest);
    const both = await s.call('POST', '/backtesting/run', { ...spec(1), controller_config_id: cfg.body.controller_config.config_id });
    expect(both.status, both.text).toBe(400);
    expect(both.body.error.details.issues[0].path).toBe('controller');
    // A saved config for sim run on another connector: the request's connector is the field to change.
    const elsewhere = await s.call('POST', '/backtesting/run', { ...rest, connector: 'sim_perpetual', controller_config_id: cfg.body.controller_config.config_id });
    expect(elsewhere.status, elsewhere.text).toBe(400);
    expect(elsewhere.body.error.details.issues).toEqual([
      { path: 'connector', message: `the saved config ${cfg.body.controller_config.config_id}: connector_name: must match the backtest's connector (sim_perpetual)` },
    ]);
  });

  it('reports progress with candles done while it runs, can be canceled, and a canceled run has no result or metrics', async () => {
    const r = await s.call('POST', '/backtesting/run', spec(300));
    expect(r.status, r.text).toBe(202);
    const id = r.body.job.job_id;
    const moving = await waitFor('progress past reading', async () => {
      const b = await job(id);
      return b.job.progress > 0 && /candles/.test(b.job.progress_message ?? '') ? b.job : undefined;
    }, { timeoutMs: 60_000, everyMs: 20 });
    expect(moving.progress).toBeLessThan(1);
    const running = await s.call('DELETE', `/backtesting/results/${id}`);
    expect(running.status, running.text).toBe(409);
    const c = await s.call('POST', `/jobs/${id}/cancel`);
    expect(c.status, c.text).toBe(200);
    const end = await ended(id);
    expect(end.job.status).toBe('canceled');
    expect(end.result).toBeNull();
    const m = await s.call('GET', `/backtesting/metrics/${id}`);
    expect(m.status, m.text).toBe(412);
  });

  it('lists and deletes backtests, and a user sees only its own', async () => {
    const mine = await s.call('POST', '/backtesting/run', { ...spec(1), wait_seconds: 30 }, TRADER);
    expect(mine.status, mine.text).toBe(202);
    const id = mine.body.job.job_id;
    const theirs = await s.call('GET', '/backtesting/results?limit=200', undefined, TRADER);
    expect(theirs.body.data.map((j: { job_id: string }) => j.job_id)).toEqual([id]);
    const all = await s.call('GET', '/backtesting/results?limit=200');
    expect(all.body.data.map((j: { job_id: string }) => j.job_id)).toContain(id);
    expect(mine.body.job.status).toBe('succeeded');
    // Deletes racing for one finished backtest: one deletes it, the others find it gone (never "not ended").
    const dels = await Promise.all(Array.from({ length: 5 }, () => s.call('DELETE', `/backtesting/results/${id}`, undefined, TRADER)));
    expect(dels.map((d) => d.status).sort()).toEqual([200, 404, 404, 404, 404]);
    const gone = await s.call('GET', `/backtesting/results/${id}`, undefined, TRADER);
    expect(gone.status).toBe(404);
  });

  it('over MCP the run sends progress notifications when asked and answers with the summary', async () => {
    expect(DEFAULT_TOOLSETS).not.toContain('backtesting');
    const seen: number[] = [];
    const res = await mcp.callTool({ name: 'backtesting_run_backtest', arguments: { ...spec(20), wait_seconds: 30 } }, CallToolResultSchema, {
      onprogress: (p) => seen.push(p.progress),
      timeout: 60_000,
    });
    expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
    const out = res.structuredContent as { job: { status: string }; summary: { candles: number } };
    expect(out.job.status).toBe('succeeded');
    expect(out.summary.candles).toBe(20 * 1440);
    expect(seen.length).toBeGreaterThan(0);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    // The full result over MCP: the series at 250 points, its four lists aligned; REST keeps the stored 5,000.
    const id = (res.structuredContent as { job: { job_id: string } }).job.job_id;
    const full = await mcp.callTool({ name: 'backtesting_get_backtest', arguments: { job_id: id } }, CallToolResultSchema, { timeout: 60_000 });
    const series = (full.structuredContent as { result: { series: Record<string, number[] | number> } }).result.series;
    expect((series.time as number[]).length).toBeLessThanOrEqual(250);
    for (const k of ['pnl', 'position', 'price']) expect((series[k] as number[]).length).toBe((series.time as number[]).length);
    expect(series.thinned_from).toBe(20 * 1440);
    const rest = await s.call('GET', `/backtesting/results/${id}`);
    expect(rest.body.result.series.time.length).toBeGreaterThan(250);
    expect(rest.body.result.series.thinned_from).toBe(20 * 1440);
  });
});
