import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { storableValue } from '../audit/storable.js';
import { AppError } from '../errors.js';
import { accountScope } from '../command/scope.js';
import type { Principal } from '../principal.js';
import type { Db } from '../db/client.js';
import type { JobRow, JobStatus } from '../db/schema/index.js';
import type { Logger } from '../logger.js';
import { maskKnownSecrets, redactValue } from '../secrets/redact.js';
import { CANCELED, INTERRUPTED, INTERRUPTED_QUEUED, JobAborted, jobErrorOf, jobNotFound, type AbortReason } from './job-errors.js';
import { isVisible, JobStore, type Final, type ListFilter, type Viewer } from './job-store.js';
import { jobView, type JobView } from './job-view.js';
import { ProgressWriter } from './progress-writer.js';
import { systemClock } from '../clock.js';
import { DEFAULT_JOBS_OPTIONS, type Clock, type JobContext, type JobRunner, type JobsOptions } from './types.js';

/** A result bigger than this is refused: a job's row is read on every poll. Bulky output belongs in its own table. */
export const MAX_RESULT_BYTES = 1 << 20;
/** Unfinished jobs one principal may have at a time, across every process. */
export const MAX_ACTIVE_PER_PRINCIPAL = 20;

interface Running {
  controller: AbortController;
  reason: AbortReason | undefined;
  settled: Promise<void>;
}

export interface JobsDeps {
  db: Db;
  logger: Logger;
  clock?: Clock;
  /** Set by tests that play two processes; otherwise host, pid and a random part. */
  instanceId?: string;
  options?: Partial<JobsOptions>;
}

export interface JobPage {
  data: JobView[];
  pagination: { limit: number; has_more: boolean; next_cursor: string | null };
}

/**
 * Persisted long-running work. A job is created queued and owned by the process that created it, which
 * runs at most `concurrency` of its jobs at once and heartbeats every job it holds. Any process on the
 * database (a REST server and a stdio MCP server may share one) ends the jobs of an owner that went
 * quiet as `interrupted`, on start and periodically, so a job is never left `running` by a process that
 * died. Jobs do not resume: whoever wanted one starts it again.
 */
export class Jobs {
  readonly instanceId: string;
  readonly #store: JobStore;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #opts: JobsOptions;
  readonly #runners = new Map<string, JobRunner>();
  /** Ids of this process's queued jobs, oldest first. */
  #queue: string[] = [];
  /**
   * The input of each job this process queued, as given: what its runner runs. The row keeps a copy
   * redacted and cut for display (a controller may name a config field `random_seed`), which must not
   * change the run. Kept in memory only: a job runs in the process that created it, or not at all.
   */
  readonly #given = new Map<string, unknown>();
  /** Slots taken: jobs being claimed or running. */
  #active = 0;
  /** Every claim-and-run in progress, so that stop() can wait for them. */
  readonly #inflight = new Set<Promise<void>>();
  readonly #running = new Map<string, Running>();
  /** Final states a failed write could not record yet; retried on every tick while the job's row stays ours. */
  readonly #unwritten = new Map<string, { from: JobStatus[]; final: Final }>();
  #state: 'new' | 'started' | 'stopping' | 'stopped' = 'new';
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticking = false;
  #lastSweep = 0;
  /** After a claim failed (database unreachable), no claim before this time; the tick pumps again. */
  #pauseUntil = 0;
  #stopped: Promise<void> | undefined;

  constructor(deps: JobsDeps) {
    this.#store = new JobStore(deps.db);
    this.#logger = deps.logger;
    this.#clock = deps.clock ?? systemClock;
    this.#opts = { ...DEFAULT_JOBS_OPTIONS, ...deps.options };
    this.instanceId = deps.instanceId ?? `${hostname().slice(0, 64)}/${process.pid}/${randomBytes(6).toString('hex')}`;
  }

  /** Declares how to run one kind of job. Every process that may create that kind registers it. */
  register<I, R>(kind: string, runner: JobRunner<I, R>): void {
    if (this.#runners.has(kind)) throw new Error(`job kind ${kind} is registered twice`);
    this.#runners.set(kind, runner as JobRunner);
  }

  /** Persists a queued job owned by this process and starts it when a slot is free. */
  async create(kind: string, input: unknown, principal: Principal, opts: { accountName?: string | null } = {}): Promise<JobView> {
    if (!this.#runners.has(kind)) throw new Error(`no runner is registered for job kind ${kind}`);
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      throw new AppError('PRECONDITION_FAILED', 'This server is stopping, so it starts no new job.', { hint: 'Create the job again once the server is back.' });
    }
    const active = await this.#store.activeCount(principal.name);
    if (active >= MAX_ACTIVE_PER_PRINCIPAL) {
      throw new AppError('RATE_LIMITED', `${principal.name} already has ${active} unfinished jobs; at most ${MAX_ACTIVE_PER_PRINCIPAL} may be queued or running at once.`, {
        hint: 'Wait for some to finish (GET /jobs?status=running and GET /jobs?status=queued list them), or cancel some.',
      });
    }
    const row = await this.#store.insert({
      id: `job_${randomBytes(12).toString('base64url')}`,
      kind,
      // Shown to whoever reads the job and kept after it ends: no secret, nothing unstorable.
      input: storableValue(redactValue(input)),
      principal: principal.name,
      accountName: opts.accountName ?? null,
      owner: this.instanceId,
      now: this.#now(),
    });
    this.#given.set(row.id, maskKnownSecrets(input));
    this.#queue.push(row.id);
    this.#pump();
    return jobView(row);
  }

  /** One job, if the principal may see it (its own, within its accounts; an admin sees all). */
  async get(id: string, principal: Principal): Promise<JobView> {
    const row = await this.#store.get(id);
    if (!row || !isVisible(row, viewerOf(principal))) throw jobNotFound(id);
    return jobView(row);
  }

  /** Newest first, the principal's own (an admin's: everyone's). */
  async list(principal: Principal, filter: ListFilter): Promise<JobPage> {
    const page = await this.#store.list(viewerOf(principal), filter);
    return { data: page.rows.map(jobView), pagination: { limit: filter.limit, has_more: page.hasMore, next_cursor: page.nextCursor } };
  }

  /**
   * A queued job ends canceled at once. A running one is flagged and its signal fires: at once when this
   * process runs it (the answer then waits briefly for it to end), else when its owner next heartbeats.
   */
  async cancel(id: string, principal: Principal): Promise<JobView> {
    const before = await this.#store.get(id);
    if (!before || !isVisible(before, viewerOf(principal))) throw jobNotFound(id);
    const { row, changed } = await this.#store.requestCancel(id, this.#now());
    if (!row) throw jobNotFound(id);
    if (!changed) {
      throw new AppError('CONFLICT', `Job ${id} already ended (${row.status}); there is nothing to cancel.`, {
        hint: `GET /jobs/${id} shows how it ended; create a new job to run it again.`,
        details: { job_id: id, status: row.status },
      });
    }
    const run = this.#running.get(id);
    if (run) {
      this.#abort(run, 'cancel');
      await Promise.race([run.settled, sleep(this.#opts.cancelWaitMs)]);
      return jobView((await this.#store.get(id)) ?? row);
    }
    return jobView(row);
  }

  /** Deletes an ended job of the principal's (with what it stored); an unfinished one must be canceled first. */
  async remove(id: string, principal: Principal, kind?: string): Promise<void> {
    const row = await this.#store.get(id);
    if (!row || !isVisible(row, viewerOf(principal)) || (kind !== undefined && row.kind !== kind)) throw jobNotFound(id);
    if (!(await this.#store.deleteEnded(id))) {
      // Not deleted: it is still running, or a concurrent delete took it first (then it is simply gone).
      const now = await this.#store.get(id);
      if (!now) throw jobNotFound(id);
      throw new AppError('CONFLICT', `Job ${id} has not ended (${now.status}); it cannot be deleted yet.`, {
        hint: `Cancel it first (POST /jobs/${id}/cancel), then delete it.`,
        details: { job_id: id, status: now.status },
      });
    }
  }

  /** Ends what dead processes left behind, then heartbeats and runs this process's jobs. */
  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    await this.sweep({ firstStart: true });
    this.#state = 'started';
    this.#timer = setInterval(() => void this.#tick(), this.#opts.heartbeatMs);
    this.#timer.unref?.();
    this.#pump();
  }

  /**
   * Stops taking work, aborts this process's running jobs and records them (and its queued ones) as
   * interrupted, waiting at most `stopTimeoutMs` for runners to notice.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping';
    if (this.#timer) clearInterval(this.#timer);
    const queued = this.#queue.splice(0);
    this.#given.clear();
    await this.#store.interruptQueued(queued, this.instanceId, INTERRUPTED_QUEUED, this.#now()).catch((err) => this.#logger.warn('could not record queued jobs as interrupted', { jobs: queued, err }));
    for (const run of this.#running.values()) this.#abort(run, 'shutdown');
    // Waits for claims in flight too: a job claimed just now sees the stop and ends interrupted itself.
    await Promise.race([Promise.all([...this.#inflight]), sleep(this.#opts.stopTimeoutMs)]);
    // Runners that ignored their signal: the row says interrupted; if one ends later, its write matches nothing.
    for (const [id] of this.#running) {
      await this.#store.finish(id, this.instanceId, ['running'], { status: 'interrupted', error: INTERRUPTED }, this.#now()).catch((err) => this.#logger.warn('could not record a running job as interrupted', { job_id: id, err }));
    }
    await this.#writeUnwritten();
    this.#state = 'stopped';
  }

  /**
   * Ends the queued and running jobs whose owner went quiet (or, on the first start of a process that is
   * alone on its database, every job another process left). Public so that tests can run it on demand.
   */
  async sweep(opts: { firstStart?: boolean } = {}): Promise<string[]> {
    const now = this.#now();
    this.#lastSweep = now.getTime();
    const by = opts.firstStart && this.#opts.exclusive ? { allBut: this.instanceId } : { staleBefore: new Date(now.getTime() - this.#opts.staleAfterMs) };
    const ended = await this.#store.sweep(now, by);
    if (ended.length) this.#logger.warn('jobs left by a stopped process ended', { jobs: ended.map((j) => `${j.id}:${j.status}`) });
    return ended.map((j) => j.id);
  }

  /** Jobs this process is running now (for tests and the status of a shutdown). */
  get runningCount(): number {
    return this.#running.size;
  }

  #now(): Date {
    return new Date(this.#clock.now());
  }

  #abort(run: Running, why: AbortReason): void {
    if (run.controller.signal.aborted) return;
    run.reason = why;
    run.controller.abort(new JobAborted(why));
  }

  #pump(): void {
    while (this.#state === 'started' && this.#active < this.#opts.concurrency && this.#queue.length && this.#clock.now() >= this.#pauseUntil) {
      const id = this.#queue.shift()!;
      this.#active++;
      const p: Promise<void> = this.#runOne(id)
        .catch((err) => this.#logger.error('job runner bookkeeping failed', { job_id: id, err }))
        .finally(() => {
          this.#active--;
          this.#inflight.delete(p);
          this.#pump();
        });
      this.#inflight.add(p);
    }
  }

  async #runOne(id: string): Promise<void> {
    let row: JobRow | undefined;
    try {
      row = await this.#store.claim(id, this.instanceId, this.#now());
    } catch (err) {
      // The database did not answer: the job stays queued and ours; the next tick tries again.
      this.#logger.warn('could not start a queued job; will retry', { job_id: id, err });
      if (this.#state === 'started') this.#queue.unshift(id);
      this.#pauseUntil = this.#clock.now() + this.#opts.heartbeatMs;
      return;
    }
    const given = this.#given.get(id);
    const hasGiven = this.#given.delete(id);
    if (!row) return; // canceled (or swept) while it waited
    if (this.#state !== 'started') {
      await this.#finish(id, { status: 'interrupted', error: INTERRUPTED_QUEUED });
      return;
    }
    const runner = this.#runners.get(row.kind);
    let done!: () => void;
    const run: Running = { controller: new AbortController(), reason: undefined, settled: new Promise<void>((r) => (done = r)) };
    this.#running.set(id, run);
    const logger = this.#logger.child({ job_id: id, job_kind: row.kind });
    const progress = new ProgressWriter(
      async (v) => {
        try {
          const seen = await this.#store.progress(id, this.instanceId, v.fraction, v.message, this.#now());
          if (!seen) this.#abort(run, 'lost');
          else if (seen.cancelRequested) this.#abort(run, 'cancel');
        } catch (err) {
          logger.warn('could not record job progress', { err });
        }
      },
      this.#clock,
      this.#opts.progressEveryMs,
    );
    const ctx: JobContext = { jobId: id, signal: run.controller.signal, clock: this.#clock, logger, progress: (f, m) => progress.report(f, m) };
    let outcome: { ok: true; result: unknown } | { ok: false; err: unknown };
    try {
      if (!runner) throw new Error(`no runner is registered for job kind ${row.kind}`);
      outcome = { ok: true, result: await runner(hasGiven ? given : row.input, ctx) };
    } catch (err) {
      outcome = { ok: false, err };
    }
    await progress.close();
    try {
      // The last message reported goes with the final state, so a finished job does not show a stale step.
      const latest = progress.latest;
      if (run.reason !== 'lost') await this.#finish(id, { ...this.#finalOf(run, outcome, latest?.fraction ?? row.progress, logger), ...(latest ? { progressMessage: latest.message } : {}) });
    } finally {
      this.#running.delete(id);
      done();
    }
  }

  #finalOf(run: Running, outcome: { ok: true; result: unknown } | { ok: false; err: unknown }, lastProgress: number, logger: Logger): Final {
    const partial = outcome.ok ? this.#bounded(outcome.result) : null;
    if (run.reason === 'cancel') return { status: 'canceled', result: partial?.value ?? null, error: CANCELED, progress: lastProgress };
    if (run.reason === 'shutdown') return { status: 'interrupted', result: partial?.value ?? null, error: INTERRUPTED, progress: lastProgress };
    if (outcome.ok) {
      if (partial!.tooLarge) {
        logger.error('job result too large to store', { bytes: partial!.bytes });
        return { status: 'failed', error: { code: 'INTERNAL', message: `The job finished but its result is too large to keep (${partial!.bytes} bytes; at most ${MAX_RESULT_BYTES}).`, hint: 'This is a server bug; the server log names the job.' }, progress: lastProgress };
      }
      return { status: 'succeeded', result: partial!.value, error: null, progress: 1 };
    }
    const error = jobErrorOf(outcome.err);
    if (error.code === 'INTERNAL') logger.error('job failed', { err: outcome.err });
    return { status: 'failed', error, progress: lastProgress };
  }

  #bounded(result: unknown): { value: unknown; tooLarge: boolean; bytes: number } {
    const value = storableValue(result ?? null);
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? 'null');
    return bytes > MAX_RESULT_BYTES ? { value: null, tooLarge: true, bytes } : { value, tooLarge: false, bytes };
  }

  async #finish(id: string, final: Final): Promise<void> {
    try {
      await this.#store.finish(id, this.instanceId, ['running'], final, this.#now());
    } catch (err) {
      this.#logger.warn('could not record how a job ended; will retry', { job_id: id, status: final.status, err });
      this.#unwritten.set(id, { from: ['running'], final });
    }
  }

  async #writeUnwritten(): Promise<void> {
    for (const [id, w] of this.#unwritten) {
      try {
        await this.#store.finish(id, this.instanceId, w.from, w.final, this.#now());
        this.#unwritten.delete(id);
      } catch {
        // still unreachable; the next tick tries again, and a sweep ends the job if we never can
      }
    }
  }

  /** Heartbeat, cross-process cancels, periodic sweep. One at a time: a slow database must not pile ticks up. */
  async #tick(): Promise<void> {
    if (this.#ticking || this.#state !== 'started') return;
    this.#ticking = true;
    try {
      await this.#writeUnwritten();
      const held = new Set([...this.#running.keys(), ...this.#queue, ...this.#unwritten.keys()]);
      const alive = await this.#store.heartbeat([...held], this.instanceId, this.#now());
      const byId = new Map(alive.map((a) => [a.id, a]));
      // Only jobs held before the heartbeat are judged by it: one created meanwhile was not asked about.
      for (const [id, run] of this.#running) {
        if (!held.has(id)) continue;
        const a = byId.get(id);
        if (!a) this.#abort(run, 'lost');
        else if (a.cancelRequested) this.#abort(run, 'cancel');
      }
      // Queued jobs canceled (or swept) by another process are dropped; a claim would fail anyway.
      this.#queue = this.#queue.filter((id) => {
        const keep = !held.has(id) || byId.has(id);
        // A queued job canceled or swept meanwhile never runs: its input goes too.
        if (!keep) this.#given.delete(id);
        return keep;
      });
      if (this.#clock.now() - this.#lastSweep >= this.#opts.sweepMs) await this.sweep();
    } catch (err) {
      this.#logger.warn('job heartbeat failed', { err });
    } finally {
      this.#ticking = false;
    }
    this.#pump();
  }
}

function viewerOf(p: Principal): Viewer {
  if (p.role === 'admin') return { principal: null, accounts: null };
  const scope = accountScope(p);
  return { principal: p.name, accounts: scope ? [...scope] : null };
}

const sleep = (ms: number) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    t.unref?.();
  });
