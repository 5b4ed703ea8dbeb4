import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/core/principal.js';
import { createLogger } from '../../src/core/logger.js';
import { BacktestSpec } from '../../src/core/backtest/spec.js';
import { OptimizationFields } from '../../src/core/backtest/optimization-spec.js';
import { CANDLE_BACKFILL_KIND } from '../../src/core/market-data/candle-backfill.js';
import { createServices, type Services } from '../../src/app/services.js';
import { testConfig } from '../helpers/config.js';
import { basicHeader, drivers, httpJson, testEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';
import { crash, ensureBuilt, startServeProcess, type ServeProcess as Running } from './dist.js';

/**
 * A job never stays "running" after the process that ran it is gone: stopped cleanly (the job is
 * recorded as interrupted on the way down) or killed outright (the next start finds it and ends it).
 */

const ADMIN: Principal = { name: 'admin', role: 'admin' };
const USER = 'jobs-restart-admin';
const PASS = 'jobs-restart-password';
const AUTH = basicHeader(USER, PASS);
/** A sim backfill far longer than any test waits for: about 900 pages. */
const LONG_BACKFILL = { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1m', start_time: '2021-01-01T00:00:00.000Z', end_time: '2022-09-17T00:00:00.000Z' };

const storedCandles = async (services: Services) => {
  const r = (await services.db.execute(sql`select count(*)::int as n from candles where connector_name = 'sim'`)) as unknown as { rows: Array<{ n: number }> };
  return Number(r.rows[0]!.n);
};

describe.each(drivers())('a Services instance stopped mid-job, on %s', (driver) => {
  let env: TestEnv;
  let services: Services | undefined;

  beforeAll(async () => {
    env = await testEnv(driver);
  });
  afterAll(async () => {
    await services?.close();
    await env?.cleanup();
  });

  it('records the running job as interrupted with what it covered, and the next start finds it so, never running', async () => {
    const first = (await createServices(env.config, createLogger('silent'))).services;
    const job = await first.jobs.create(CANDLE_BACKFILL_KIND, LONG_BACKFILL, ADMIN);
    await waitFor('the backfill to make progress', async () => (await first.jobs.get(job.job_id, ADMIN)).progress > 0, { timeoutMs: 60_000 });
    await first.close();

    services = (await createServices(env.config, createLogger('silent'))).services;
    const after = await services.jobs.get(job.job_id, ADMIN);
    expect(after).toMatchObject({
      status: 'interrupted',
      error: { code: 'INTERRUPTED', message: 'The server stopped while this job ran; start it again.' },
      result: { complete: false },
    });
    expect(after.finished_at).not.toBeNull();
    expect(after.result).toMatchObject({ candles_fetched: expect.any(Number) });
    // What it stored before the stop stays stored, and a new run skips it.
    const stored = await storedCandles(services);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBe((after.result as { candles_fetched: number }).candles_fetched);
    const again = await services.jobs.create(CANDLE_BACKFILL_KIND, { ...LONG_BACKFILL, end_time: new Date(Date.parse(LONG_BACKFILL.start_time) + (stored - 1) * 60_000).toISOString() }, ADMIN);
    const rerun = await waitFor('the re-run to end', async () => {
      const j = await services!.jobs.get(again.job_id, ADMIN);
      return j.status === 'succeeded' ? j : undefined;
    }, { timeoutMs: 60_000 });
    expect(rerun.result).toMatchObject({ candles_fetched: 0, candles_already_cached: stored, complete: true });
  });

  it('a backtest and an optimization cut off by a stop are interrupted, not failed, and the next start finds them so', async () => {
    await services?.close();
    services = undefined;
    const first = (await createServices(env.config, createLogger('silent'))).services;
    // Years of 1m candles: far longer than the test waits.
    const backtest = { controller: { name: 'bollinger_v1', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: Date.UTC(2021, 0, 1), end: Date.UTC(2024, 11, 31), resolution: '1m' };
    const bt = await first.backtests.start(BacktestSpec.parse(backtest), ADMIN);
    const opt = await first.optimizations.start(OptimizationFields.parse({ backtest: { ...backtest, end: Date.UTC(2021, 11, 31) }, space: { bb_length: { min: 20, max: 200, step: 20 } }, objective: { metric: 'net_pnl_quote', direction: 'maximize' } }), ADMIN);
    await waitFor('both jobs to run', async () => (await first.jobs.get(bt.job_id, ADMIN)).status === 'running' && (await first.jobs.get(opt.job_id, ADMIN)).status === 'running', { timeoutMs: 60_000 });
    await first.close();

    services = (await createServices(env.config, createLogger('silent'))).services;
    for (const id of [bt.job_id, opt.job_id]) expect(await services.jobs.get(id, ADMIN), id).toMatchObject({ status: 'interrupted', error: { code: 'INTERRUPTED' } });
  });
});

const modes = [{ name: 'embedded', postgres: false }, ...(process.env.DATABASE_URL ? [{ name: 'server', postgres: true }] : [])];

describe.each(modes)('the real CLI killed mid-job ($name)', (mode) => {
  let dataDir: string;
  let pgEnv: TestEnv | undefined;
  let env: Record<string, string>;
  let server: Running | undefined;
  let services: Services | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), `td-e2e-jobs-${mode.name}-`));
    env = { DATA_DIR: dataDir, API_USERNAME: USER, API_PASSWORD: PASS, VAULT_KEY: randomBytes(32).toString('hex') };
    if (mode.postgres) {
      pgEnv = await testEnv('postgres');
      env.DATABASE_URL = pgEnv.config.databaseUrl!;
    }
    server = await startServeProcess(env);
  }, 180_000);
  afterAll(async () => {
    if (server) await crash(server);
    await services?.close();
    await pgEnv?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the job it ran is interrupted after the next start, never left running', async () => {
    const started = await httpJson(server!.url, 'POST', '/market-data/candles/backfill', LONG_BACKFILL, AUTH);
    expect(started.status, started.text).toBe(202);
    const id: string = started.body.job.job_id;
    await waitFor('the backfill to make progress', async () => {
      const r = await httpJson(server!.url, 'GET', `/jobs/${id}`, undefined, AUTH);
      return r.body.job?.status === 'running' && r.body.job.progress > 0;
    }, { timeoutMs: 60_000 });
    await crash(server!);

    if (!mode.postgres) {
      // Embedded: the data directory admits one process, so the restarted server ends it at once.
      server = await startServeProcess(env);
      const r = await httpJson(server.url, 'GET', `/jobs/${id}`, undefined, AUTH);
      expect(r.status).toBe(200);
      expect(r.body.job).toMatchObject({ status: 'interrupted', error: { code: 'INTERRUPTED', message: 'The server stopped while this job ran; start it again.' } });
      return;
    }
    // Server mode: other processes may share the database, so the job is ended once its heartbeat is
    // stale; a short staleness stands in for the default 30 s.
    const config = testConfig({ dataDir, databaseUrl: env.DATABASE_URL, admin: { username: USER, password: PASS }, vaultKey: env.VAULT_KEY });
    const peek = (await createServices(config, createLogger('silent'), { jobs: { options: { staleAfterMs: 60_000 } } })).services;
    try {
      // Its heartbeat is recent: a process that starts now cannot yet tell a dead owner from a busy one.
      expect((await peek.jobs.get(id, ADMIN)).status).toBe('running');
    } finally {
      await peek.close();
    }
    await new Promise((r) => setTimeout(r, 1_200));
    services = (await createServices(config, createLogger('silent'), { jobs: { options: { staleAfterMs: 1_000 } } })).services;
    expect(await services.jobs.get(id, ADMIN)).toMatchObject({ status: 'interrupted', error: { code: 'INTERRUPTED' } });
  });
});
