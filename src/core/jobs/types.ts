import type { Logger } from '../logger.js';

import type { Clock } from '../clock.js';

export type { Clock };

/** What a runner gets besides its input. */
export interface JobContext {
  readonly jobId: string;
  /**
   * Fires when the job is canceled, when this process stops, or when another process has declared it
   * interrupted. A runner checks it between steps and stops promptly: what it returns after a cancel is
   * kept as a partial result, what it throws is dropped.
   */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Reports how far the job is, `fraction` from 0 to 1. Cheap to call often: the row is written at most
   * once per throttle interval, and the last value reported is always written.
   */
  progress(fraction: number, message?: string): void;
}

/**
 * One kind of job. It receives the input as stored (plain JSON) and returns a JSON-serialisable result.
 * It must yield to the event loop at least every few seconds (CPU-heavy work: in slices or in a worker
 * thread): the heartbeat that keeps the job from being declared interrupted runs on the same loop.
 * An AppError it throws is shown to the caller as the job's error; anything else is logged and shown as
 * a generic INTERNAL error.
 */
export type JobRunner<I = unknown, R = unknown> = (input: I, ctx: JobContext) => Promise<R>;

export interface JobsOptions {
  /** Jobs this process runs at once; the rest wait queued. */
  concurrency: number;
  /** How often a process refreshes the heartbeat of the jobs it holds. */
  heartbeatMs: number;
  /** A queued or running job whose heartbeat is older than this is declared interrupted. */
  staleAfterMs: number;
  /** How often a process looks for jobs whose owner went quiet. */
  sweepMs: number;
  /** At most one progress write per job per this interval. */
  progressEveryMs: number;
  /** How long stop() waits for running jobs to notice their abort before recording them interrupted. */
  stopTimeoutMs: number;
  /** How long a cancel of a job this process runs waits for it to end, so the answer is usually final. */
  cancelWaitMs: number;
  /**
   * This process is the only one on its database (the embedded data directory is locked to one
   * process): on start every queued or running job of another owner is interrupted at once, without
   * waiting for its heartbeat to go stale.
   */
  exclusive: boolean;
}

export const DEFAULT_JOBS_OPTIONS: JobsOptions = {
  concurrency: 2,
  heartbeatMs: 5_000,
  staleAfterMs: 30_000,
  sweepMs: 15_000,
  progressEveryMs: 250,
  stopTimeoutMs: 5_000,
  cancelWaitMs: 2_000,
  exclusive: false,
};
