import type { Clock } from '../clock.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { type CandleColumns, type CandleReader, loadCandles } from '../backtest/candle-loader.js';
import type { ControllerSource } from './backtest-job.js';
import { sharedColumns } from './optimization-job.js';
import type { TrialsWorkerInput } from './pool-worker.js';
import type { TakenBatch, TrialBatch, TrialQueue } from './trial-queue.js';
import type { TrialStore } from './trial-store.js';
import type { TrialDone } from './trials-task.js';
import type { StrategyPool } from './worker-pool.js';
import { VERSION } from '../../version.js';

export interface TrialWorkerDeps {
  queue: Pick<TrialQueue, 'take' | 'stillHeld' | 'complete' | 'fail' | 'handBack'>;
  store: Pick<TrialStore, 'save' | 'storedOf' | 'jobRunning'>;
  pool: Pick<StrategyPool, 'run' | 'threads'>;
  /** Where candles come from for a sim seed: the coordinator's seed decides the sim's prices. */
  candles: (simSeed: string) => CandleReader;
  controllers: ControllerSource;
  clock: Clock;
  logger: Logger;
}

export interface TrialWorkerOptions {
  /** Batches run at once (one per pool thread). */
  lanes: number;
  /** How long an idle worker waits before it asks the queue again. */
  pollMs: number;
  /** How often a running batch checks that it is still wanted (not canceled, not handed to another worker). */
  heldCheckMs: number;
}

/** Candle sets kept for the optimizations this worker ran last, besides those primed by a coordinator here. */
const KEPT_CANDLE_SETS = 2;

type StopWhy = 'release' | 'unwanted';

/**
 * Takes optimization batches from the queue and runs them on the local pool, one per pool thread, each
 * trial's metrics written to the store as it ends. A retried batch runs only the trials not stored yet.
 * A batch stops when it is no longer wanted (canceled, its job ended, or handed to another worker after
 * its time ran out). On stop, the batches in hand are released: failed back to the queue at once, so
 * another worker runs the trials that did not finish.
 */
export class TrialWorker implements Lifecycle {
  readonly #opts: TrialWorkerOptions;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  readonly #active = new Map<string, { stop: (why: StopWhy) => void; done: Promise<void> }>();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** Candles read by this process's coordinator, by job id: its batches here need no second read. */
  readonly #primed = new Map<string, CandleColumns>();
  readonly #loaded = new Map<string, Promise<CandleColumns>>();
  /**
   * Optimizations this worker cannot run (another version's, or a controller it lacks): it hands their
   * batches back and takes none at all until they end, so that the workers that can run them do.
   */
  readonly #cannotRun = new Set<string>();

  constructor(
    private readonly deps: TrialWorkerDeps,
    opts: Partial<TrialWorkerOptions> = {},
  ) {
    this.#opts = { lanes: deps.pool.threads, pollMs: 1000, heldCheckMs: 1000, ...opts };
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  /** Starts taking batches. A server calls it when it first coordinates an optimization; `tradedesk worker` at once. */
  start(): void {
    if (this.#state !== 'new') return;
    this.#state = 'running';
    this.#loop = this.#run();
  }

  prime(jobId: string, columns: CandleColumns): void {
    this.#primed.set(jobId, columns);
    this.start();
  }

  unprime(jobId: string): void {
    this.#primed.delete(jobId);
  }

  /** Stops taking batches and releases the ones in hand. */
  async stop(): Promise<void> {
    if (this.#state === 'new') this.#state = 'stopped';
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    for (const a of this.#active.values()) a.stop('release');
    this.#wake?.();
    await this.#loop;
    await Promise.all([...this.#active.values()].map((a) => a.done));
    this.#state = 'stopped';
  }

  async #run(): Promise<void> {
    while (this.#state === 'running') {
      const free = this.#opts.lanes - this.#active.size;
      let took = 0;
      if (free > 0 && !(await this.#sittingOut())) {
        try {
          const batches = await this.deps.queue.take(free);
          took = batches.length;
          for (const b of batches) {
            this.#launch(b);
            // Taken while stopping: handed straight back.
            if (this.#state !== 'running') this.#active.get(b.id)?.stop('release');
          }
        } catch (err) {
          this.deps.logger.warn('could not take optimization batches; will retry', { err: (err as Error).message });
        }
      }
      if (this.#state !== 'running') break;
      // Right away when every lane got a batch and one frees up; after the poll interval when the queue was empty.
      if (took === 0 || this.#active.size >= this.#opts.lanes) await this.#idle(took === 0 ? this.#opts.pollMs : 24 * 3600_000);
    }
  }

  /** Whether an optimization this worker cannot run still runs (then it takes no batch); forgets those that ended. */
  async #sittingOut(): Promise<boolean> {
    for (const job of this.#cannotRun) {
      try {
        if (await this.deps.store.jobRunning(job)) return true;
        this.#cannotRun.delete(job);
      } catch {
        return true;
      }
    }
    return false;
  }

  #idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    }).finally(() => (this.#wake = undefined));
  }

  #launch(batch: TakenBatch): void {
    const controller = new AbortController();
    let why: StopWhy | undefined;
    const stop = (w: StopWhy) => {
      if (controller.signal.aborted) return;
      why = w;
      controller.abort(new Error(w === 'release' ? 'the worker is stopping' : 'the batch is no longer wanted'));
    };
    const done = this.#runBatch(batch, controller.signal, () => why)
      .catch((err) => this.deps.logger.error('optimization batch bookkeeping failed', { batch: batch.id, err }))
      .finally(() => {
        this.#active.delete(batch.id);
        this.#wake?.();
      });
    this.#active.set(batch.id, { stop, done });
    // The watch: a canceled batch, an ended job, or a batch handed to another worker stops this run.
    const watch = setInterval(() => {
      void (async () => {
        try {
          if (!(await this.deps.queue.stillHeld(batch)) || !(await this.deps.store.jobRunning(batch.data.job_id))) stop('unwanted');
        } catch {
          // the database did not answer: the batch goes on; its time limit still guards it
        }
      })();
    }, this.#opts.heldCheckMs);
    void done.finally(() => clearInterval(watch));
  }

  async #runBatch(batch: TakenBatch, signal: AbortSignal, why: () => StopWhy | undefined): Promise<void> {
    const b = batch.data;
    const log = this.deps.logger.child({ job_id: b.job_id, batch: batch.id });
    const t0 = this.deps.clock.now();
    if (!(await this.deps.store.jobRunning(b.job_id))) {
      await this.deps.queue.complete(batch.id);
      log.info('skipped a batch of an optimization that no longer runs');
      return;
    }
    const found = this.deps.controllers.controller(b.spec.controller.name);
    const cannot =
      b.code_version !== VERSION
        ? `this worker runs tradedesk ${VERSION} and the optimization's server ${b.code_version ?? 'an older version'}: run the server's version on every worker`
        : !found
          ? `this worker has no controller named ${b.spec.controller.name}: give it the server's strategy modules (STRATEGIES_DIR)`
          : null;
    if (cannot) {
      this.#cannotRun.add(b.job_id);
      await this.deps.queue.handBack(batch.id);
      log.error('handed back an optimization batch it cannot run, and takes no batch until that optimization ends', { reason: cannot });
      return;
    }
    const stored = await this.deps.store.storedOf(b.job_id, b.trials.map((t) => t.trial));
    const todo = b.trials.filter((t) => !stored.has(t.trial));
    log.info('took an optimization batch', { trials: todo.length, already_stored: stored.size, attempt: batch.retryCount + 1 });
    const saved = new Set<number>();
    const saves: Promise<unknown>[] = [];
    let saveError: unknown;
    const save = (d: TrialDone) => {
      if (saved.has(d.trial)) return;
      saved.add(d.trial);
      saves.push(this.deps.store.save(b.job_id, d).catch((err: unknown) => (saveError ??= err)));
    };
    try {
      if (todo.length > 0) {
        const columns = await this.#columns(b);
        const input: TrialsWorkerInput = { spec: b.spec, columns, market: b.market, trials: todo, ...(found?.moduleUrl ? { controllerModule: found.moduleUrl } : {}) };
        const out = await this.deps.pool.run<TrialsWorkerInput, TrialDone[]>({ name: 'trials', input }, { signal, onMessage: (m) => save(m as TrialDone) });
        for (const d of out) save(d);
      }
      await Promise.all(saves);
      if (saveError) throw saveError;
      await this.deps.queue.complete(batch.id);
      log.info('finished an optimization batch', { trials: todo.length, ms: this.deps.clock.now() - t0 });
    } catch (err) {
      await Promise.all(saves);
      const w = why();
      if (w === 'unwanted') {
        log.info('stopped an optimization batch that is no longer wanted', { trials_saved: saved.size });
      } else if (w === 'release') {
        await this.deps.queue.fail(batch.id, 'a worker stopped while running it');
        log.info('released an optimization batch to the queue', { trials_saved: saved.size, trials_left: todo.length - saved.size });
      } else {
        const message = (err as Error).message ?? String(err);
        await this.deps.queue.fail(batch.id, message);
        log.warn('an optimization batch failed', { err: message });
      }
    }
  }

  /** The job's candles: primed by a coordinator in this process, or read once per job and kept for its next batches. */
  #columns(b: TrialBatch): Promise<CandleColumns> {
    const primed = this.#primed.get(b.job_id);
    if (primed) return Promise.resolve(primed);
    let p = this.#loaded.get(b.job_id);
    // Read without a batch's signal: other batches of the job may wait on the same read.
    if (!p) {
      const s = b.spec;
      p = loadCandles(this.deps.candles(b.sim_seed), { connector: s.connector, tradingPair: s.trading_pair, interval: s.resolution, start: s.start, end: s.end, warmupBars: b.warmup_bars }).then((l) => sharedColumns(l.columns));
      this.#loaded.set(b.job_id, p);
      // A failed read is not kept: the next batch reads again.
      p.catch(() => this.#loaded.delete(b.job_id));
      while (this.#loaded.size > KEPT_CANDLE_SETS) this.#loaded.delete(this.#loaded.keys().next().value!);
    }
    return p;
  }
}
