import { randomUUID } from 'node:crypto';
import type PgBoss from 'pg-boss';
import { AppError } from '../errors.js';
import type { Market } from '../exchange/types.js';
import type { Logger } from '../logger.js';
import type { BacktestSpec } from '../backtest/spec.js';
import type { TrialRun } from './trials-task.js';

/** The pg-boss queue of optimization trial batches, in the pg-boss schema of the database. */
export const TRIALS_QUEUE = 'optimization-trials';
const SCHEMA = 'pgboss';

/**
 * One batch of an optimization's trials as it travels through the queue: everything a worker needs to
 * run them but the candles, which it reads itself (the sim computes them from its seed; an exchange's
 * come through the candle cache the coordinator filled).
 */
export interface TrialBatch {
  job_id: string;
  /** The coordinator's version: a worker of another version would compute other metrics, so it runs none. */
  code_version: string;
  /** The coordinator's SIM_SEED: a worker with another seed must still compute the same sim candles. */
  sim_seed: string;
  spec: BacktestSpec;
  market: Pick<Market, 'trading_pair' | 'base' | 'quote' | 'rules'>;
  warmup_bars: number;
  trials: TrialRun[];
}

export interface QueueOptions {
  /**
   * A batch still active this long after a worker took it is failed and handed to another worker: how
   * long a dead worker's batch waits. It must exceed the time a live worker takes for a batch.
   */
  batchTimeoutSeconds: number;
  /** How often pg-boss looks for batches past their time (whichever process on the database looks first). */
  maintenanceSeconds: number;
  /** Times a failed or timed-out batch is handed out again before the optimization fails. */
  retryLimit: number;
}

export const DEFAULT_QUEUE_OPTIONS: QueueOptions = { batchTimeoutSeconds: 600, maintenanceSeconds: 30, retryLimit: 5 };

export type BatchState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

export interface TakenBatch {
  id: string;
  data: TrialBatch;
  /** Which hand-out of the batch this is: a later one means another worker has it now. */
  retryCount: number;
}

/**
 * The Postgres job queue (pg-boss) that carries optimization trials to worker processes, on this
 * machine or others sharing the database. pg-boss starts on first use, so a server that never runs an
 * optimization opens no connection for it and creates no schema.
 */
export class TrialQueue {
  #boss: Promise<PgBoss> | undefined;
  #stopped = false;
  readonly opts: QueueOptions;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    opts: Partial<QueueOptions> = {},
  ) {
    // The queue looks for batches past their time every so often: a tenth of the timeout (at most the
    // default 30 s), so that a dead worker's batch moves on soon after its time, not up to a minute later.
    const timeout = opts.batchTimeoutSeconds ?? DEFAULT_QUEUE_OPTIONS.batchTimeoutSeconds;
    this.opts = { ...DEFAULT_QUEUE_OPTIONS, maintenanceSeconds: Math.max(1, Math.min(DEFAULT_QUEUE_OPTIONS.maintenanceSeconds, Math.floor(timeout / 10))), ...opts };
  }

  /** Connects now (pg-boss creates its schema on a first start): a worker that cannot reach the database says so at once. */
  async connect(): Promise<void> {
    await this.#started();
  }

  /** Sends the batches; their ids in the same order. */
  async send(batches: TrialBatch[]): Promise<string[]> {
    const boss = await this.#started();
    const ids = batches.map(() => randomUUID());
    await boss.insert(batches.map((data, i) => ({ id: ids[i]!, name: TRIALS_QUEUE, data, expireInSeconds: this.opts.batchTimeoutSeconds, retryLimit: this.opts.retryLimit, retryDelay: 0 })));
    return ids;
  }

  /** Cancels the batches not yet ended: a worker running one sees it and stops. */
  async cancel(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await (await this.#started()).cancel(TRIALS_QUEUE, ids);
  }

  /**
   * The state of each batch, and what a failed one failed with. One query for all: the coordinator asks
   * often, about many batches (pg-boss 10 keeps live jobs in `job` and moves ended ones to `archive`).
   */
  async states(ids: string[]): Promise<Map<string, { state: BatchState; message: string | null }>> {
    const out = new Map<string, { state: BatchState; message: string | null }>();
    if (ids.length === 0) return out;
    const boss = await this.#started();
    const q = (table: string) => `select id::text as id, state::text as state, output from ${SCHEMA}.${table} where name = $1 and id = any($2::uuid[])`;
    const { rows } = await boss.getDb().executeSql(`${q('job')} union all ${q('archive')}`, [TRIALS_QUEUE, ids]);
    for (const r of rows as Array<{ id: string; state: BatchState; output: unknown }>) out.set(r.id, { state: r.state, message: messageOf(r.output) });
    return out;
  }

  /** Takes up to `n` waiting batches for this worker. */
  async take(n: number): Promise<TakenBatch[]> {
    const boss = await this.#started();
    const jobs = await boss.fetch<TrialBatch>(TRIALS_QUEUE, { batchSize: n, includeMetadata: true });
    return jobs.map((j) => ({ id: j.id, data: j.data, retryCount: j.retryCount }));
  }

  /** Whether the batch is still this worker's: active, and not handed out again since it took it. */
  async stillHeld(batch: TakenBatch): Promise<boolean> {
    const boss = await this.#started();
    const j = await boss.getJobById(TRIALS_QUEUE, batch.id, { includeArchive: false });
    return j?.state === 'active' && j.retryCount === batch.retryCount;
  }

  async complete(id: string): Promise<void> {
    await (await this.#started()).complete(TRIALS_QUEUE, id);
  }

  /**
   * Puts a batch this worker took but cannot run back in the queue as if never taken: waiting, with
   * the hand-out its take counted given back, so that workers unable to run it never use up its retries.
   */
  async handBack(id: string): Promise<void> {
    const boss = await this.#started();
    await boss
      .getDb()
      .executeSql(
        // A take counts a hand-out (retry_count + 1) when the batch had started before (started_on set), so
        // both go back to what they were: a first take left the count alone and set started_on.
        `update ${SCHEMA}.job set state = 'created', started_on = case when retry_count > 0 then started_on end, retry_count = greatest(retry_count - 1, 0) where name = $1 and id = $2::uuid and state = 'active'`,
        [TRIALS_QUEUE, id],
      );
  }

  /** Fails the batch with a message; pg-boss hands it out again while retries are left. */
  async fail(id: string, message: string): Promise<void> {
    await (await this.#started()).fail(TRIALS_QUEUE, id, { message });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const boss = this.#boss;
    this.#boss = undefined;
    if (!boss) return;
    const b = await boss.catch(() => undefined);
    // Not graceful: the workers have ended or released their batches already; nothing is left to wait for.
    await b?.stop({ graceful: false, close: true }).catch((err: unknown) => this.logger.warn('the optimization queue did not stop cleanly', { err }));
  }

  #started(): Promise<PgBoss> {
    if (this.#stopped) return Promise.reject(new Error('the optimization queue is stopped'));
    this.#boss ??= this.#start();
    const p = this.#boss;
    // A failed start (database away) is retried on the next use, not remembered.
    p.catch(() => {
      if (this.#boss === p) this.#boss = undefined;
    });
    return p;
  }

  async #start(): Promise<PgBoss> {
    const { default: PgBossClass } = await import('pg-boss');
    const boss = new PgBossClass({
      connectionString: this.url,
      schema: SCHEMA,
      max: 4,
      application_name: 'tradedesk optimization queue',
      // No cron schedules here; the maintenance that expires and retries batches stays on.
      schedule: false,
      maintenanceIntervalSeconds: this.opts.maintenanceSeconds,
    });
    // Connection trouble is reported here; without a listener an 'error' event would end the process.
    boss.on('error', (err) => this.logger.warn('optimization queue error', { err: (err as Error).message }));
    try {
      await boss.start();
      await boss.createQueue(TRIALS_QUEUE, { name: TRIALS_QUEUE, retryLimit: this.opts.retryLimit, retryDelay: 0, expireInSeconds: this.opts.batchTimeoutSeconds });
    } catch (err) {
      await boss.stop({ graceful: false, close: true }).catch(() => undefined);
      this.logger.warn('the optimization queue did not start', { err });
      throw new AppError('UPSTREAM_UNAVAILABLE', `The optimization job queue on Postgres did not start: ${(err as Error).message}`, {
        hint: `It needs the database reachable and the right to create the schema "${SCHEMA}" on first use; OPTIMIZATION_QUEUE=local runs the trials on this server's own pool instead.`,
      });
    }
    return boss;
  }
}

function messageOf(output: unknown): string | null {
  if (!output || typeof output !== 'object') return null;
  const o = output as { message?: unknown; value?: { message?: unknown } };
  const m = o.message ?? o.value?.message;
  return typeof m === 'string' ? m : null;
}
