import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TOOLSETS } from '../../src/tools/index.js';
import { ccxtOptionsFor, startBinanceFixture, type BinanceFixture } from '../fixtures/binance-fixture.js';
import { mcpCall, mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

const MINUTE = 60_000;
const START = Date.UTC(2024, 0, 1);
const TRADER = basicHeader('job_trader', 'job-trader-password');
const TRADER2 = basicHeader('job_trader2', 'job-trader2-password');
const VIEWER = basicHeader('job_viewer', 'job-viewer-password');
const JOB_TOOLS = ['jobs_list_jobs', 'jobs_get_job', 'jobs_cancel_job', 'jobs_start_candle_backfill'];

interface JobOut {
  job_id: string;
  kind: string;
  status: string;
  progress: number;
  progress_message: string | null;
  input: Record<string, unknown>;
  result: Record<string, any> | null;
  error: { code: string; message: string; hint?: string } | null;
  principal: string;
  cancel_requested: boolean;
}

/** A 1m backfill of `n` candles from START on sim. */
const simBackfill = (n: number, from = START) => ({ connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1m', start_time: new Date(from).toISOString(), end_time: new Date(from + (n - 1) * MINUTE).toISOString() });

describe.each(drivers())('jobs over REST and MCP on %s', (driver) => {
  let fx: BinanceFixture;
  let s: TestServer;
  let mcp: Client;

  const getJob = async (id: string, auth = ADMIN_AUTH): Promise<JobOut> => {
    const r = await s.call('GET', `/jobs/${id}`, undefined, auth);
    expect(r.status, r.text).toBe(200);
    return r.body.job;
  };
  const ended = (id: string, auth = ADMIN_AUTH) =>
    waitFor(`job ${id} to end`, async () => {
      const j = await getJob(id, auth);
      return ['queued', 'running'].includes(j.status) ? undefined : j;
    }, { timeoutMs: 120_000, everyMs: 50 });
  const start = async (body: unknown, auth = ADMIN_AUTH): Promise<JobOut> => {
    const r = await s.call('POST', '/market-data/candles/backfill', body, auth);
    expect(r.status, r.text).toBe(202);
    return r.body.job;
  };
  const storedCandles = async (connector: string, interval: string) => {
    const r = (await s.services.db.execute(sql`select count(*)::int as n from candles where connector_name = ${connector} and trading_pair = 'BTC-USDT' and interval = ${interval}`)) as unknown as { rows: Array<{ n: number }> };
    return Number(r.rows[0]!.n);
  };

  beforeAll(async () => {
    fx = await startBinanceFixture();
    s = await testServer(driver, { toolsets: 'default,jobs' }, { ccxt: () => ccxtOptionsFor(fx) });
    mcp = await mcpClient(s.url, ADMIN_AUTH, 'jobs');
    for (const [username, password, role] of [['job_trader', 'job-trader-password', 'trader'], ['job_trader2', 'job-trader2-password', 'trader'], ['job_viewer', 'job-viewer-password', 'viewer']]) {
      const r = await s.call('POST', '/users', { username, password, role });
      expect(r.status, r.text).toBe(201);
    }
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await s?.stop();
    await fx?.close();
  });

  it('the jobs toolset is opt-in: not among the default toolsets, listed when chosen', async () => {
    expect(DEFAULT_TOOLSETS).not.toContain('jobs');
    const names = (await mcp.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(JOB_TOOLS));
  });

  it('a sim backfill answers 202 with a queued job, shows its progress while it runs, and ends succeeded with every candle stored', async () => {
    const job = await start(simBackfill(20_000));
    expect(job).toMatchObject({ kind: 'candle_backfill', status: 'queued', progress: 0, principal: 'admin', cancel_requested: false, result: null });
    expect(job.input).toEqual({ ...simBackfill(20_000), start_time: '2024-01-01T00:00:00.000Z' });

    const seen: JobOut[] = [];
    const midway = await waitFor('progress between 0 and 1 while it runs', async () => {
      const j = await getJob(job.job_id);
      seen.push(j);
      return j.status === 'running' && j.progress > 0 && j.progress < 1 ? j : undefined;
    }, { timeoutMs: 60_000, everyMs: 20 });
    expect(midway.progress_message).toMatch(/^\d+ of 20000 candles covered, up to 2024-01-/);

    const done = await ended(job.job_id);
    expect(done).toMatchObject({ status: 'succeeded', progress: 1, error: null });
    expect(done.result).toMatchObject({ candles_in_range: 20_000, candles_fetched: 20_000, candles_already_cached: 0, pages: 20, complete: true, covered_until: simBackfill(20_000).end_time });
    expect(await storedCandles('sim', '1m')).toBe(20_000);
    // Progress only moves forward.
    const progress = seen.map((j) => j.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('the same backfill again asks the exchange for nothing: every page is already stored', async () => {
    const again = await ended((await start(simBackfill(20_000))).job_id);
    expect(again.result).toMatchObject({ candles_fetched: 0, candles_already_cached: 20_000, complete: true });
    expect(await storedCandles('sim', '1m')).toBe(20_000);
  });

  it('a backfill from a ccxt exchange fills the cache that market_data_get_candles then reads with the exchange unreachable', async () => {
    const to = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE - 24 * 60 * MINUTE;
    const from = to - 1500 * 5 * MINUTE;
    const job = await start({ connector_name: 'binance', trading_pair: 'BTC-USDT', interval: '5m', start_time: from, end_time: to });
    const done = await ended(job.job_id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.result).toMatchObject({ candles_in_range: 1501, candles_fetched: 1501, complete: true });
    expect(done.result!.pages).toBeGreaterThanOrEqual(2);
    expect(await storedCandles('binance', '5m')).toBe(1501);
    const asked = fx.requestsTo('GET', '/api/v3/klines').length;
    fx.dropConnections(true);
    try {
      const r = await s.call('GET', `/market-data/candles/BTC-USDT?connector_name=binance&interval=5m&start_time=${new Date(from + 200 * 5 * MINUTE).toISOString()}&limit=1000`);
      expect(r.status, r.text).toBe(200);
      expect(r.body.candles).toHaveLength(1000);
    } finally {
      fx.dropConnections(false);
    }
    expect(fx.requestsTo('GET', '/api/v3/klines').length).toBe(asked);
  });

  it('cancel over MCP stops a running backfill between pages: canceled, with what it covered; a second cancel is a 409 on both faces', async () => {
    const job = await start(simBackfill(900_000, Date.UTC(2021, 0, 1)));
    await waitFor('the backfill to make progress', async () => (await getJob(job.job_id)).progress > 0, { timeoutMs: 60_000 });
    const r = await mcpCall(mcp, 'jobs_cancel_job', { job_id: job.job_id });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    const canceled = r.ok ? (r.output.job as JobOut) : undefined;
    expect(canceled).toMatchObject({ status: 'canceled', cancel_requested: true, error: { code: 'CANCELED' } });
    expect(canceled!.result).toMatchObject({ complete: false, candles_in_range: 900_000 });
    expect(canceled!.result!.candles_fetched).toBeGreaterThan(0);
    expect(canceled!.result!.candles_fetched).toBeLessThan(900_000);
    const pagesAtCancel = canceled!.result!.pages;
    await new Promise((res) => setTimeout(res, 300));
    expect((await getJob(job.job_id)).result!.pages).toBe(pagesAtCancel);

    const viaMcp = await mcpCall(mcp, 'jobs_cancel_job', { job_id: job.job_id });
    expect(viaMcp.ok ? 'ok' : viaMcp.code).toBe('CONFLICT');
    const viaRest = await s.call('POST', `/jobs/${job.job_id}/cancel`);
    expect(viaRest.status).toBe(409);
    expect(viaRest.body.error).toMatchObject({ code: 'CONFLICT', message: `Job ${job.job_id} already ended (canceled); there is nothing to cancel.`, details: { status: 'canceled' } });
  });

  it('an unknown job is a 404 on both faces, and a malformed id a 400', async () => {
    const unknown = 'job_AAAAAAAAAAAAAAAA';
    for (const [method, path] of [['GET', `/jobs/${unknown}`], ['POST', `/jobs/${unknown}/cancel`]] as const) {
      const r = await s.call(method, path);
      expect(r.status, path).toBe(404);
      expect(r.body.error).toMatchObject({ code: 'NOT_FOUND', message: `There is no job ${unknown}.` });
    }
    for (const tool of ['jobs_get_job', 'jobs_cancel_job']) {
      const r = await mcpCall(mcp, tool, { job_id: unknown });
      expect(r.ok ? 'ok' : r.code, tool).toBe('NOT_FOUND');
      const bad = await mcpCall(mcp, tool, { job_id: 'job_1' });
      expect(bad.ok ? 'ok' : bad.code, tool).toBe('VALIDATION_FAILED');
    }
    const r = await s.call('GET', '/jobs/not-a-job');
    expect(r.status).toBe(400);
    expect(r.body.error.details.issues[0].path).toBe('job_id');
  });

  it('a trader sees and cancels only its own jobs, an admin sees all; a viewer cannot start one', async () => {
    const mine = await start(simBackfill(2_000, Date.UTC(2022, 0, 1)), TRADER);
    expect(mine.principal).toBe('job_trader');
    const done = await ended(mine.job_id, TRADER);
    expect(done.status).toBe('succeeded');

    const own = await s.call('GET', '/jobs', undefined, TRADER);
    expect(own.status).toBe(200);
    expect(own.body.data.map((j: JobOut) => j.job_id)).toEqual([mine.job_id]);
    const other = await s.call('GET', '/jobs', undefined, TRADER2);
    expect(other.body.data).toEqual([]);
    expect((await s.call('GET', `/jobs/${mine.job_id}`, undefined, TRADER2)).status).toBe(404);
    expect((await s.call('POST', `/jobs/${mine.job_id}/cancel`, undefined, TRADER2)).status).toBe(404);

    const all = await s.call('GET', '/jobs?kind=candle_backfill&limit=2');
    expect(all.body.data.map((j: JobOut) => j.job_id)[0]).toBe(mine.job_id);
    expect(all.body.pagination).toMatchObject({ limit: 2, has_more: true });
    const next = await s.call('GET', `/jobs?kind=candle_backfill&limit=100&cursor=${all.body.pagination.next_cursor}`);
    expect(next.status).toBe(200);
    expect(next.body.data.length).toBeGreaterThan(0);
    expect(next.body.data.map((j: JobOut) => j.job_id)).not.toContain(mine.job_id);

    const canceled = await mcpCall(mcp, 'jobs_list_jobs', { status: 'canceled' });
    expect(canceled.ok).toBe(true);
    if (canceled.ok) {
      expect(canceled.output.data.length).toBeGreaterThan(0);
      for (const j of canceled.output.data as JobOut[]) expect(j.status).toBe('canceled');
    }
    expect((await s.call('GET', '/jobs?kind=no_such_kind')).body.data).toEqual([]);

    const viewer = await s.call('POST', '/market-data/candles/backfill', simBackfill(10), VIEWER);
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.code).toBe('POLICY_DENIED');
    expect((await s.call('GET', '/jobs', undefined, VIEWER)).body.data).toEqual([]);
  });

  it('bad backfill input is refused before any job exists', async () => {
    const before = (await s.call('GET', '/jobs?limit=1000')).body.data.length;
    const cases: Array<[unknown, number, string]> = [
      [{ ...simBackfill(10), trading_pair: 'NOPE-USDT' }, 404, 'NOT_FOUND'],
      [{ ...simBackfill(10), connector_name: 'no_such_exchange' }, 404, 'NOT_FOUND'],
      [{ ...simBackfill(10), start_time: '2024-02-01T00:00:00Z', end_time: '2024-01-01T00:00:00Z' }, 400, 'start_time'],
      [{ ...simBackfill(10), start_time: '2015-01-01T00:00:00Z', end_time: '2024-01-01T00:00:00Z' }, 400, 'start_time'],
      [{ ...simBackfill(10), interval: '2w' }, 400, 'interval'],
      [{ ...simBackfill(10), start_time: 'yesterday' }, 400, 'start_time'],
      [{ connector_name: 'sim', trading_pair: 'BTC-USDT' }, 400, 'start_time'],
    ];
    for (const [body, status, what] of cases) {
      const r = await s.call('POST', '/market-data/candles/backfill', body);
      expect(r.status, `${what}: ${r.text}`).toBe(status);
      if (status === 400) expect(r.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(what);
      else expect(r.body.error.code).toBe(what);
    }
    expect((await s.call('GET', '/jobs?limit=1000')).body.data.length).toBe(before);
  });
});
