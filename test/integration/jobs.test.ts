import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { type Principal } from '../../src/core/principal.js';
import { openDatabase, type Database } from '../../src/core/db/client.js';
import { jobs as jobsTable } from '../../src/core/db/schema/index.js';
import { JobStore } from '../../src/core/jobs/job-store.js';
import { Jobs, JobAborted, type JobContext, type JobsOptions } from '../../src/core/jobs/index.js';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { drivers, testEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

const ADMIN: Principal = { name: 'admin', role: 'admin' };
const AMY: Principal = { name: 'amy', role: 'trader' };
const BOB: Principal = { name: 'bob', role: 'trader' };
/** Short intervals so that heartbeats, sweeps and cancels across instances happen within a test. */
const FAST: Partial<JobsOptions> = { heartbeatMs: 50, sweepMs: 100, staleAfterMs: 30_000, progressEveryMs: 20, stopTimeoutMs: 1_000, cancelWaitMs: 1_000 };

/** A runner the test releases (or that waits for its signal), recording which instance ran which job. */
class Gate {
  ran: Array<{ id: string; by: string; input: unknown }> = [];
  running = 0;
  maxRunning = 0;
  #open = false;
  #waiters: Array<() => void> = [];
  release(): void {
    this.#open = true;
    for (const w of this.#waiters.splice(0)) w();
  }
  runner(by: string) {
    return async (input: unknown, ctx: JobContext) => {
      this.ran.push({ id: ctx.jobId, by, input });
      this.running++;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      try {
        await new Promise<void>((resolve, reject) => {
          if (this.#open) return resolve();
          this.#waiters.push(resolve);
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
        return { done: true, by };
      } finally {
        this.running--;
      }
    };
  }
}

/** Collects log lines, so a test can see what went to the log and not to the row. */
function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger('debug', {}, (l) => lines.push(l)), lines };
}

describe.each(drivers())('jobs on %s', (driver) => {
  let env: TestEnv;
  let database: Database;
  const started: Jobs[] = [];

  beforeAll(async () => {
    env = await testEnv(driver);
    database = await openDatabase({ url: env.config.databaseUrl, dataDir: join(env.dataDir, 'pg') });
  });
  afterEach(async () => {
    for (const j of started.splice(0)) await j.stop();
    await database.db.delete(jobsTable);
  });
  afterAll(async () => {
    await database?.close();
    await env?.cleanup();
  });

  const make = async (opts: { options?: Partial<JobsOptions>; instanceId?: string; logger?: Logger; start?: boolean } = {}) => {
    const j = new Jobs({ db: database.db, logger: opts.logger ?? createLogger('silent'), instanceId: opts.instanceId, options: { ...FAST, ...opts.options } });
    started.push(j);
    return j;
  };
  const row = async (id: string) => (await database.db.select().from(jobsTable).where(eq(jobsTable.id, id)))[0]!;
  const ended = (id: string, jobs: Jobs, p: Principal = ADMIN) => waitFor(`job ${id} to end`, async () => {
    const j = await jobs.get(id, p);
    return ['queued', 'running'].includes(j.status) ? undefined : j;
  });

  it('runs a job to success: queued, then running with its progress visible, then succeeded with the result', async () => {
    const jobs = await make();
    let step!: () => void;
    jobs.register('steps', async (input: { n: number }, ctx) => {
      for (let i = 1; i <= input.n; i++) {
        await new Promise<void>((r) => (step = r));
        ctx.progress(i / input.n, `step ${i} of ${input.n}`);
      }
      return { total: input.n * 10 };
    });
    await jobs.start();
    const created = await jobs.create('steps', { n: 4 }, AMY);
    expect(created).toMatchObject({ kind: 'steps', status: 'queued', progress: 0, input: { n: 4 }, principal: 'amy', result: null, error: null, started_at: null });
    expect(created.job_id).toMatch(/^job_[A-Za-z0-9_-]{16}$/);

    await waitFor('the runner to wait for its first step', () => step !== undefined);
    step();
    const midway = await waitFor('progress 0.25 in the row', async () => {
      const j = await jobs.get(created.job_id, AMY);
      return j.progress >= 0.25 ? j : undefined;
    });
    expect(midway).toMatchObject({ status: 'running', progress: 0.25, progress_message: 'step 1 of 4' });
    expect(midway.started_at).not.toBeNull();
    for (let i = 2; i <= 4; i++) {
      await waitFor(`step ${i}`, () => step !== undefined);
      const s = step;
      step = undefined as never;
      s();
    }
    const done = await ended(created.job_id, jobs, AMY);
    expect(done).toMatchObject({ status: 'succeeded', progress: 1, result: { total: 40 }, error: null, cancel_requested: false });
    expect(Date.parse(done.finished_at!)).toBeGreaterThanOrEqual(Date.parse(done.started_at!));
  });

  it('runs the input as given while storing and showing it redacted: a config field named like a secret keeps its value for the run', async () => {
    const jobs = await make();
    let seen: unknown;
    jobs.register('echo', async (input: unknown) => {
      seen = input;
      return null;
    });
    await jobs.start();
    const input = { controller: { name: 'seeded_v1', config: { random_seed: 42, api_key_length: 7, note: 'x'.repeat(3000) } } };
    const created = await jobs.create('echo', input, AMY);
    // Stored and shown redacted and cut to what a row keeps...
    expect((await row(created.job_id)).input).toMatchObject({ controller: { config: { random_seed: '***', api_key_length: '***' } } });
    expect(created.input).toMatchObject({ controller: { config: { random_seed: '***', api_key_length: '***' } } });
    expect(((created.input as { controller: { config: { note: string } } }).controller.config.note).length).toBeLessThan(3000);
    await ended(created.job_id, jobs, AMY);
    // ...but the runner got exactly what was asked.
    expect(seen).toEqual(input);
  });

  it('a runner that throws an AppError fails with its code, message and hint; anything else is INTERNAL, and only the log has the details', async () => {
    const { logger, lines } = memoryLogger();
    const jobs = await make({ logger });
    jobs.register('refused', async () => {
      throw new AppError('UPSTREAM_UNAVAILABLE', 'binance cannot be reached.', { hint: 'Retry later.', details: { upstream_message: 'ECONNRESET' } });
    });
    jobs.register('buggy', async () => {
      throw new TypeError('cannot read properties of undefined (reading "secret_sauce")');
    });
    await jobs.start();
    const a = await ended((await jobs.create('refused', {}, AMY)).job_id, jobs);
    expect(a).toMatchObject({ status: 'failed', error: { code: 'UPSTREAM_UNAVAILABLE', message: 'binance cannot be reached.', hint: 'Retry later.' }, result: null });
    expect(JSON.stringify(await row(a.job_id))).not.toContain('ECONNRESET');

    const b = await ended((await jobs.create('buggy', {}, AMY)).job_id, jobs);
    expect(b.status).toBe('failed');
    expect(b.error!.code).toBe('INTERNAL');
    expect(b.error!.message).toBe('The server hit an unexpected error.');
    expect(JSON.stringify(await row(b.job_id))).not.toContain('secret_sauce');
    expect(lines.some((l) => l.includes('secret_sauce') && l.includes(b.job_id))).toBe(true);
  });

  it('cancels a queued job at once, without ever running it', async () => {
    const gate = new Gate();
    const jobs = await make({ options: { concurrency: 1 } });
    jobs.register('gate', gate.runner('a'));
    await jobs.start();
    const first = await jobs.create('gate', { i: 1 }, AMY);
    const second = await jobs.create('gate', { i: 2 }, AMY);
    await waitFor('the first job to run', () => gate.ran.length === 1);
    expect((await jobs.get(second.job_id, AMY)).status).toBe('queued');

    const canceled = await jobs.cancel(second.job_id, AMY);
    expect(canceled).toMatchObject({ status: 'canceled', cancel_requested: true, error: { code: 'CANCELED' } });
    expect(canceled.finished_at).not.toBeNull();
    gate.release();
    expect((await ended(first.job_id, jobs)).status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 100));
    expect(gate.ran.map((r) => r.id)).toEqual([first.job_id]);
    expect((await jobs.get(second.job_id, AMY)).status).toBe('canceled');
  });

  it('cancels a running job: its signal fires, it ends canceled with its partial result, and a second cancel is a CONFLICT', async () => {
    const jobs = await make();
    let steps = 0;
    jobs.register('loop', async (_input, ctx) => {
      while (!ctx.signal.aborted) {
        steps++;
        ctx.progress(Math.min(0.99, steps / 1000), `${steps} steps`);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(ctx.signal.reason).toBeInstanceOf(JobAborted);
      return { steps_done: steps };
    });
    await jobs.start();
    const job = await jobs.create('loop', {}, AMY);
    await waitFor('some progress', async () => (await jobs.get(job.job_id, AMY)).progress > 0);
    const after = await jobs.cancel(job.job_id, AMY);
    // This process runs it, so the answer waited for it to end.
    expect(after).toMatchObject({ status: 'canceled', cancel_requested: true, error: { code: 'CANCELED' } });
    expect((after.result as { steps_done: number }).steps_done).toBeGreaterThan(0);
    expect(after.progress).toBeGreaterThan(0);

    const again = await jobs.cancel(job.job_id, AMY).catch((e: AppError) => e);
    expect(again).toBeInstanceOf(AppError);
    expect((again as AppError).code).toBe('CONFLICT');
    expect((again as AppError).message).toBe(`Job ${job.job_id} already ended (canceled); there is nothing to cancel.`);
  });

  it('cancelling a job that succeeded is a CONFLICT that names its state', async () => {
    const jobs = await make();
    jobs.register('quick', async () => ({ ok: true }));
    await jobs.start();
    const job = await ended((await jobs.create('quick', {}, AMY)).job_id, jobs);
    const err = await jobs.cancel(job.job_id, AMY).catch((e: AppError) => e);
    expect(err).toMatchObject({ code: 'CONFLICT', details: { job_id: job.job_id, status: 'succeeded' } });
    expect((await jobs.get(job.job_id, AMY)).status).toBe('succeeded');
  });

  it('runs at most `concurrency` jobs at once; the rest wait queued and run in order', async () => {
    const gate = new Gate();
    const jobs = await make({ options: { concurrency: 2 } });
    jobs.register('gate', gate.runner('a'));
    await jobs.start();
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await jobs.create('gate', { i }, AMY));
    await waitFor('two jobs to run', () => gate.ran.length === 2);
    await new Promise((r) => setTimeout(r, 150));
    // The two oldest run; two claims in flight may start in either order.
    expect(gate.ran.map((r) => (r.input as { i: number }).i).sort()).toEqual([0, 1]);
    const statuses = await database.db.select({ status: jobsTable.status, n: sql<number>`count(*)::int` }).from(jobsTable).groupBy(jobsTable.status);
    expect(Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)]))).toEqual({ running: 2, queued: 3 });
    expect(jobs.runningCount).toBe(2);
    gate.release();
    for (const c of created) expect((await ended(c.job_id, jobs)).status).toBe('succeeded');
    expect(gate.maxRunning).toBe(2);
    expect(gate.ran.map((r) => (r.input as { i: number }).i).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('on start, ends the running and queued jobs of a process that went quiet as interrupted (or canceled when asked), and leaves live ones alone', async () => {
    const now = Date.now();
    const at = (ms: number) => new Date(now - ms);
    const base = { kind: 'gate', input: {}, principal: 'amy', createdAt: at(120_000), updatedAt: at(60_000) };
    await database.db.insert(jobsTable).values([
      { ...base, id: 'job_deadrunning0000', status: 'running', owner: 'dead-process', heartbeatAt: at(60_000), startedAt: at(100_000), progress: 0.4 },
      { ...base, id: 'job_deadqueued00000', status: 'queued', owner: 'dead-process', heartbeatAt: at(60_000) },
      { ...base, id: 'job_deadcanceling00', status: 'running', owner: 'dead-process', heartbeatAt: at(60_000), cancelRequested: true },
      { ...base, id: 'job_aliverunning000', status: 'running', owner: 'live-process', heartbeatAt: at(1_000) },
      { ...base, id: 'job_finishedlong000', status: 'succeeded', owner: 'dead-process', heartbeatAt: at(60_000), result: { x: 1 } },
    ]);
    const jobs = await make();
    jobs.register('gate', new Gate().runner('b'));
    await jobs.start();
    const byId = async (id: string) => jobs.get(id, ADMIN);
    expect(await byId('job_deadrunning0000')).toMatchObject({
      status: 'interrupted',
      progress: 0.4,
      error: { code: 'INTERRUPTED', message: 'The server stopped while this job ran; start it again.' },
    });
    expect((await byId('job_deadrunning0000')).finished_at).not.toBeNull();
    expect(await byId('job_deadqueued00000')).toMatchObject({ status: 'interrupted', error: { code: 'INTERRUPTED' } });
    expect(await byId('job_deadcanceling00')).toMatchObject({ status: 'canceled', error: { code: 'CANCELED' } });
    expect((await byId('job_aliverunning000')).status).toBe('running');
    expect(await byId('job_finishedlong000')).toMatchObject({ status: 'succeeded', result: { x: 1 } });

    // The live one goes quiet too: the periodic sweep ends it, without a restart.
    await database.db.update(jobsTable).set({ heartbeatAt: at(31_000) }).where(eq(jobsTable.id, 'job_aliverunning000'));
    await waitFor('the periodic sweep', async () => (await byId('job_aliverunning000')).status === 'interrupted');
  });

  it('a process alone on its database (embedded) ends every job another process left, however fresh its heartbeat', async () => {
    await database.db.insert(jobsTable).values({ id: 'job_freshorphan0000', kind: 'gate', status: 'running', input: {}, principal: 'amy', owner: 'previous-run', heartbeatAt: new Date() });
    const jobs = await make({ options: { exclusive: true } });
    await jobs.start();
    expect(await jobs.get('job_freshorphan0000', ADMIN)).toMatchObject({ status: 'interrupted', error: { code: 'INTERRUPTED' } });
  });

  it('two processes on one database never run the same job, and neither ends the other\'s live jobs', async () => {
    const gate = new Gate();
    const a = await make({ instanceId: 'proc-a', options: { concurrency: 3 } });
    const b = await make({ instanceId: 'proc-b', options: { concurrency: 3 } });
    a.register('gate', gate.runner('proc-a'));
    b.register('gate', gate.runner('proc-b'));
    await Promise.all([a.start(), b.start()]);
    const made = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).create('gate', { i }, AMY)));
    await waitFor('six jobs running', () => gate.ran.length === 6);
    // Several sweeps on both sides while the jobs run: none is ended, since both heartbeat.
    await Promise.all([a.sweep(), b.sweep(), a.sweep(), b.sweep()]);
    expect((await Promise.all(made.map((m) => a.get(m.job_id, ADMIN)))).filter((j) => j.status === 'interrupted')).toEqual([]);
    gate.release();
    for (const m of made) expect((await ended(m.job_id, a)).status).toBe('succeeded');
    const ids = gate.ran.map((r) => r.id);
    expect(new Set(ids).size).toBe(12);
    expect(ids.sort()).toEqual(made.map((m) => m.job_id).sort());
    // Each ran in the process that created it.
    for (const r of gate.ran) expect(r.by).toBe((r.input as { i: number }).i % 2 ? 'proc-a' : 'proc-b');
  });

  it('a claim is one conditional update: two claims of one queued job, one wins', async () => {
    const store = new JobStore(database.db);
    for (let round = 0; round < 10; round++) {
      const id = `job_claimrace${String(round).padStart(6, '0')}`;
      await store.insert({ id, kind: 'gate', input: {}, principal: 'amy', accountName: null, owner: 'proc-a', now: new Date() });
      const claims = await Promise.all([store.claim(id, 'proc-a', new Date()), store.claim(id, 'proc-a', new Date()), store.claim(id, 'proc-b', new Date())]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(claims[2]).toBeUndefined(); // never another owner's
    }
  });

  it('two sweepers racing over one dead process end each job once', async () => {
    const old = new Date(Date.now() - 60_000);
    await database.db.insert(jobsTable).values(Array.from({ length: 20 }, (_, i) => ({ id: `job_sweeprace${String(i).padStart(6, '0')}`, kind: 'gate', status: 'running' as const, input: {}, principal: 'amy', owner: 'dead', heartbeatAt: old })));
    const store = new JobStore(database.db);
    const staleBefore = new Date(Date.now() - 30_000);
    const [x, y] = await Promise.all([store.sweep(new Date(), { staleBefore }), store.sweep(new Date(), { staleBefore })]);
    const all = [...x!, ...y!].map((r) => r.id);
    expect(all).toHaveLength(20);
    expect(new Set(all).size).toBe(20);
  });

  it('a cancel made through another process reaches the runner at its owner\'s next heartbeat', async () => {
    const a = await make({ instanceId: 'proc-a' });
    const b = await make({ instanceId: 'proc-b' });
    a.register('wait', async (_i, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true })));
    b.register('wait', async () => null);
    await Promise.all([a.start(), b.start()]);
    const job = await a.create('wait', {}, AMY);
    await waitFor('running', async () => (await a.get(job.job_id, AMY)).status === 'running');
    const flagged = await b.cancel(job.job_id, AMY);
    expect(flagged).toMatchObject({ status: 'running', cancel_requested: true });
    expect(await ended(job.job_id, b)).toMatchObject({ status: 'canceled', error: { code: 'CANCELED' } });
  });

  it('a process whose job was declared interrupted meanwhile stops the runner and does not overwrite the row', async () => {
    const jobs = await make();
    let aborted: unknown;
    jobs.register('wait', async (_i, ctx) => {
      await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
      aborted = ctx.signal.reason;
      return { finished: 'anyway' };
    });
    await jobs.start();
    const job = await jobs.create('wait', {}, AMY);
    await waitFor('running', async () => (await jobs.get(job.job_id, AMY)).status === 'running');
    // What another process's sweep does to a job whose owner looked dead (say its event loop was blocked).
    await new JobStore(database.db).sweep(new Date(), { staleBefore: new Date(Date.now() + 60_000) });
    await waitFor('the runner to be stopped', () => aborted !== undefined);
    expect((aborted as JobAborted).why).toBe('lost');
    await waitFor('the runner to be let go', () => jobs.runningCount === 0);
    expect(await jobs.get(job.job_id, AMY)).toMatchObject({ status: 'interrupted', result: null });
  });

  it('stop() records running and queued jobs as interrupted, even a runner that ignores its signal, and refuses new jobs', async () => {
    const jobs = await make({ options: { concurrency: 2, stopTimeoutMs: 300 } });
    jobs.register('polite', async (_i, ctx) => {
      await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
      return { stopped_at_step: 3 };
    });
    jobs.register('deaf', () => new Promise(() => undefined));
    await jobs.start();
    const polite = await jobs.create('polite', {}, AMY);
    const deaf = await jobs.create('deaf', {}, AMY);
    const queued = await jobs.create('polite', {}, AMY);
    await waitFor('two running', async () => (await Promise.all([polite, deaf].map((j) => jobs.get(j.job_id, AMY)))).every((j) => j.status === 'running'));
    await jobs.stop();
    expect(await jobs.get(polite.job_id, AMY)).toMatchObject({ status: 'interrupted', result: { stopped_at_step: 3 }, error: { code: 'INTERRUPTED', message: 'The server stopped while this job ran; start it again.' } });
    expect(await jobs.get(deaf.job_id, AMY)).toMatchObject({ status: 'interrupted', error: { code: 'INTERRUPTED' } });
    expect(await jobs.get(queued.job_id, AMY)).toMatchObject({ status: 'interrupted', error: { code: 'INTERRUPTED', message: 'The server stopped before this job started; start it again.' } });
    const refused = await jobs.create('polite', {}, AMY).catch((e: AppError) => e);
    expect((refused as AppError).code).toBe('PRECONDITION_FAILED');
  });

  it('a trader sees only its own jobs, an admin all; another\'s job is not found; lists page newest first with filters', async () => {
    const jobs = await make();
    jobs.register('quick', async (input: { n: number }) => ({ n: input.n }));
    jobs.register('other', async () => {
      throw new AppError('NOT_SUPPORTED', 'not here');
    });
    await jobs.start();
    const amy = [];
    for (let i = 0; i < 5; i++) amy.push(await ended((await jobs.create('quick', { n: i }, AMY)).job_id, jobs));
    const bobs = await ended((await jobs.create('other', {}, BOB)).job_id, jobs);

    const p1 = await jobs.list(AMY, { limit: 2 });
    expect(p1.data.map((j) => j.job_id)).toEqual([amy[4]!.job_id, amy[3]!.job_id]);
    expect(p1.pagination).toMatchObject({ limit: 2, has_more: true });
    const p2 = await jobs.list(AMY, { limit: 2, cursor: p1.pagination.next_cursor! });
    const p3 = await jobs.list(AMY, { limit: 2, cursor: p2.pagination.next_cursor! });
    expect([...p2.data, ...p3.data].map((j) => j.job_id)).toEqual([amy[2]!.job_id, amy[1]!.job_id, amy[0]!.job_id]);
    expect(p3.pagination).toEqual({ limit: 2, has_more: false, next_cursor: null });

    expect((await jobs.list(ADMIN, { limit: 100 })).data).toHaveLength(6);
    expect((await jobs.list(ADMIN, { limit: 100, status: 'failed' })).data.map((j) => j.job_id)).toEqual([bobs.job_id]);
    expect((await jobs.list(ADMIN, { limit: 100, kind: 'quick' })).data).toHaveLength(5);
    expect((await jobs.list(BOB, { limit: 100 })).data.map((j) => j.job_id)).toEqual([bobs.job_id]);
    const hidden = await jobs.get(bobs.job_id, AMY).catch((e: AppError) => e);
    expect(hidden).toMatchObject({ code: 'NOT_FOUND', message: `There is no job ${bobs.job_id}.` });
    expect(await jobs.cancel(bobs.job_id, AMY).catch((e: AppError) => e.code)).toBe('NOT_FOUND');
    expect(await jobs.list(AMY, { limit: 2, cursor: 'garbage' }).catch((e: AppError) => e.code)).toBe('VALIDATION_FAILED');
  });

  it('a job tied to an account is hidden from its creator once that account is out of the creator\'s scope', async () => {
    const jobs = await make();
    jobs.register('quick', async () => null);
    await jobs.start();
    const job = await jobs.create('quick', {}, AMY, { accountName: 'acct_a' });
    expect((await jobs.get(job.job_id, { ...AMY, accounts: ['acct_a'] })).account_name).toBe('acct_a');
    expect(await jobs.get(job.job_id, { ...AMY, accounts: ['acct_b'] }).catch((e: AppError) => e.code)).toBe('NOT_FOUND');
    expect((await jobs.list({ ...AMY, accounts: ['acct_b'] }, { limit: 10 })).data).toEqual([]);
  });

  it('stores input without secrets and results as storable JSON; a result too large to keep fails the job', async () => {
    const jobs = await make();
    jobs.register('echo', async (input: unknown) => ({ text: 'a\u0000b', input }));
    jobs.register('huge', async () => ({ rows: Array.from({ length: 200_000 }, (_, i) => i) }));
    await jobs.start();
    const job = await jobs.create('echo', { pair: 'BTC-USDT', api_key: 'should-not-be-kept-0001' }, AMY);
    expect(JSON.stringify(await row(job.job_id))).not.toContain('should-not-be-kept');
    const done = await ended(job.job_id, jobs);
    expect(done.status).toBe('succeeded');
    expect(done.input).toEqual({ pair: 'BTC-USDT', api_key: '***' });
    expect((done.result as { text: string }).text).toBe('a\uFFFDb');

    const big = await ended((await jobs.create('huge', {}, AMY)).job_id, jobs);
    expect(big).toMatchObject({ status: 'failed', result: null, error: { code: 'INTERNAL' } });
    expect(big.error!.message).toContain('too large');
  });

  it('refuses a principal with too many unfinished jobs', async () => {
    const gate = new Gate();
    const jobs = await make({ options: { concurrency: 1 } });
    jobs.register('gate', gate.runner('a'));
    await jobs.start();
    for (let i = 0; i < 20; i++) await jobs.create('gate', { i }, BOB);
    const err = await jobs.create('gate', {}, BOB).catch((e: AppError) => e);
    expect(err).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await jobs.create('gate', {}, AMY)).status).toBe('queued');
    gate.release();
  });
});
