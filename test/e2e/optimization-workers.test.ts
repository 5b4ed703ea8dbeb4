import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, crash, ensureBuilt, MAIN, ROOT } from './dist.js';
import { privateDatabase } from '../helpers/config.js';
import { testServer, type TestServer } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
const START = Date.UTC(2024, 0, 1);

/**
 * bollinger_v1 on sim, `days` of 1m candles: a trial takes a few ms a day. The tests that need a worker
 * process to hold a batch give the server's own worker (one lane) at least 2 million candles of trials,
 * so that it cannot run every batch before the worker, which asks once a second, first does (a week's
 * 80 trials, 0.8 million candles, once ran out before the worker asked).
 */
const optimization = (lengths: number[], extra: Record<string, unknown> = {}, days = 1) => ({
  backtest: { controller: { name: 'bollinger_v1', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: START, end: START + days * DAY - MINUTE, resolution: '1m', trade_cost: 0.001 },
  space: { bb_length: { values: lengths }, bb_std: { values: [1.5, 2] } },
  objective: { metric: 'net_pnl_pct', direction: 'maximize' },
  top_n: 50,
  ...extra,
});
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

/** A `tradedesk worker` child process on the server's database, with what it logged. */
interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startWorker(databaseUrl: string, dataDir: string): WorkerProcess {
  const child = spawn(process.execPath, [MAIN, 'worker'], { env: cleanEnv({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir, LOG_LEVEL: 'info' }), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/** Waits for `what` in a worker's log, failing with that log. */
const waitForLog = (w: WorkerProcess, what: string, check: () => boolean) =>
  waitFor(what, check, { timeoutMs: 60_000, everyMs: 20 }).catch((err: Error) => {
    throw new Error(`${err.message}; the worker logged:\n${w.output()}`);
  });

/** Log lines of a worker with this message. */
const lines = (w: WorkerProcess, msg: string) =>
  w
    .output()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('optimization trials on worker processes through the Postgres queue', () => {
  let queued: TestServer;
  let local: TestServer;
  let db: pg.Client;
  let dataDir: string;
  const workers: WorkerProcess[] = [];

  const spawnWorker = async () => {
    const w = startWorker(queued.env.config.databaseUrl!, dataDir);
    workers.push(w);
    await waitFor('the worker to start', () => {
      if (w.child.exitCode !== null) throw new Error(`the worker exited: ${w.output()}`);
      return lines(w, 'worker taking optimization batches').length > 0;
    }, { timeoutMs: 30_000, everyMs: 50 });
    return w;
  };
  const run = async (s: TestServer, body: unknown) => {
    const r = await s.call('POST', '/backtesting/optimize', body);
    expect(r.status, r.text).toBe(202);
    return r.body.job.job_id as string;
  };
  const ended = (s: TestServer, id: string) =>
    waitFor(`optimization ${id} to end`, async () => {
      const b = (await s.call('GET', `/backtesting/optimizations/${id}`)).body;
      return ['queued', 'running'].includes(b.job.status) ? undefined : b;
    }, { timeoutMs: 120_000, everyMs: 100 });
  /** The queue's batches of one optimization, as pg-boss keeps them. */
  const batches = async (jobId: string) =>
    (
      await db.query<{ state: string; retry_count: number; trials: number }>(
        `select state::text, retry_count, jsonb_array_length(data->'trials') as trials from pgboss.job where name = 'optimization-trials' and data->>'job_id' = $1
         union all select state::text, retry_count, jsonb_array_length(data->'trials') from pgboss.archive where name = 'optimization-trials' and data->>'job_id' = $1`,
        [jobId],
      )
    ).rows;

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'td-worker-'));
    // The server's own worker runs one batch at a time, so the child workers get their share; a batch a
    // dead worker held goes back to the queue after 10 s (pg-boss looks every second), well above what
    // a live worker takes for one even on a loaded machine (the first batch starts a thread and reads candles).
    queued = await testServer('postgres', { toolsets: 'default,backtesting' }, { optimizationQueue: { batchTimeoutSeconds: 10, maintenanceSeconds: 1, pollMs: 100, worker: { lanes: 1, pollMs: 200, heldCheckMs: 200 } } });
    local = await testServer('postgres', { toolsets: 'default,backtesting', optimizationQueue: 'local' });
    db = new pg.Client({ connectionString: queued.env.config.databaseUrl });
    await db.connect();
  }, 60_000);
  afterEach(async () => {
    for (const w of workers.splice(0)) await crash(w);
  });
  afterAll(async () => {
    await db?.end();
    await queued?.stop();
    await local?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a worker process takes batches, and the leaderboard is the one the local pool ranks', async () => {
    const w = await spawnWorker();
    // 40 trials of 60 days, 3.5 million candles: batches of one trial, so the count below is the trials'.
    const spec = optimization(range(10, 20), {}, 60);
    const id = await run(queued, spec);
    const q = await ended(queued, id);
    const l = await ended(local, await run(local, spec));
    expect(q.job.status, JSON.stringify(q.job.error)).toBe('succeeded');
    expect(l.job.status).toBe('succeeded');
    expect(q.result).toMatchObject({ trials_done: 40, trials_total: 40, partial: false });
    expect(q.result.leaderboard.length).toBeGreaterThan(0);
    expect(q.result.leaderboard).toEqual(l.result.leaderboard);
    expect(q.result.trials_rejected).toBe(l.result.trials_rejected);
    // The worker ran some of the batches, the server the rest.
    const took = lines(w, 'finished an optimization batch').filter((x) => x.job_id === id);
    expect(took.length).toBeGreaterThan(0);
    const b = await batches(id);
    expect(b.length).toBe(40);
    expect(took.length).toBeLessThan(b.length);
    // Every batch ended completed (on a loaded machine one may have outlived its time and run twice: its trials still count once).
    expect(b.every((x) => x.state === 'completed')).toBe(true);
    // The coordinator keeps the leaderboard and drops the per-trial rows.
    expect((await db.query('select count(*)::int as n from optimization_trials where job_id = $1', [id])).rows[0].n).toBe(0);
  }, 120_000);

  it('a worker killed mid-batch: its batch goes to another worker and every trial counts once', async () => {
    const w = await spawnWorker();
    // 140 trials: batches of 3, so the killed worker leaves a batch with trials done and trials to do.
    const spec = optimization(range(10, 70), {}, 14);
    const id = await run(queued, spec);
    await waitForLog(w, 'the worker to hold a batch after finishing one', () => lines(w, 'finished an optimization batch').some((x) => x.job_id === id) && lines(w, 'took an optimization batch').filter((x) => x.job_id === id).length > lines(w, 'finished an optimization batch').filter((x) => x.job_id === id).length);
    await crash(w);
    const q = await ended(queued, id);
    expect(q.job.status, JSON.stringify(q.job.error)).toBe('succeeded');
    expect(q.result).toMatchObject({ trials_done: 140, trials_total: 140, partial: false });
    expect(q.job.progress_message).toMatch(/^done: 140 of 140 trials/);
    const b = await batches(id);
    expect(b.every((x) => x.state === 'completed')).toBe(true);
    expect(b.some((x) => x.retry_count > 0)).toBe(true);
    const l = await ended(local, await run(local, spec));
    expect(q.result.leaderboard).toEqual(l.result.leaderboard);
  }, 180_000);

  it('a canceled optimization leaves no batch running or waiting', async () => {
    const w = await spawnWorker();
    // 300 trials of a week, 3 million candles, as the comment on `optimization` says.
    const id = await run(queued, optimization(range(10, 150), {}, 7));
    await waitForLog(w, 'the worker to run a batch', () => lines(w, 'took an optimization batch').some((x) => x.job_id === id));
    const c = await queued.call('POST', `/jobs/${id}/cancel`);
    expect(c.status, c.text).toBe(200);
    const end = await ended(queued, id);
    expect(end.job.status).toBe('canceled');
    expect(end.result.partial).toBe(true);
    await waitFor('every batch to be canceled or done', async () => (await batches(id)).every((x) => x.state === 'cancelled' || x.state === 'completed'), { timeoutMs: 10_000, everyMs: 100 });
    await waitFor('the worker to stop its batch', () => lines(w, 'stopped an optimization batch that is no longer wanted').some((x) => x.job_id === id) || lines(w, 'finished an optimization batch').filter((x) => x.job_id === id).length === lines(w, 'took an optimization batch').filter((x) => x.job_id === id).length, { timeoutMs: 10_000, everyMs: 50 });
    expect((await db.query('select count(*)::int as n from optimization_trials where job_id = $1', [id])).rows[0].n).toBe(0);
  }, 120_000);

  it('SIGTERM: the worker hands its batch back and exits; the optimization still ends complete', async () => {
    const w = await spawnWorker();
    const id = await run(queued, optimization(range(10, 150), {}, 7));
    await waitForLog(w, 'the worker to run a batch', () => lines(w, 'took an optimization batch').some((x) => x.job_id === id));
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    const q = await ended(queued, id);
    expect(q.job.status, JSON.stringify(q.job.error)).toBe('succeeded');
    expect(q.result.trials_done).toBe(300);
    // What it held went back to the queue at once and was run again by the server, skipping what was stored.
    const released = lines(w, 'released an optimization batch to the queue').map((x) => x.batch as string);
    expect(released.length).toBeGreaterThan(0);
    for (const batch of released) {
      const [row] = (await db.query(`select state::text, retry_count from pgboss.job where id = $1 union all select state::text, retry_count from pgboss.archive where id = $1`, [batch])).rows;
      expect(row).toMatchObject({ state: 'completed' });
      expect(row.retry_count).toBeGreaterThan(0);
    }
  }, 120_000);

  it('refuses a database that is not a server\'s, and writes nothing to it', async () => {
    const empty = await privateDatabase(process.env.DATABASE_URL!, 'tdw');
    try {
      const r = spawnSync(process.execPath, [MAIN, 'worker'], { env: cleanEnv({ DATABASE_URL: empty.url, DATA_DIR: dataDir }), cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(/is not a tradedesk server's: start the server on it first/);
      const c = new pg.Client({ connectionString: empty.url });
      await c.connect();
      try {
        const { rows } = await c.query<{ n: number }>(`select count(*)::int as n from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`);
        expect(rows[0]!.n).toBe(0);
      } finally {
        await c.end();
      }
    } finally {
      await empty.drop();
    }
  });

  it('refuses to start without DATABASE_URL, saying what it needs', () => {
    const r = spawnSync(process.execPath, [MAIN, 'worker'], { env: cleanEnv({ DATA_DIR: dataDir }), cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/tradedesk worker needs DATABASE_URL: the Postgres server that the tradedesk server uses/);
  });
});
