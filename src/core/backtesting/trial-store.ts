import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { jobs, optimizationTrials } from '../db/schema/index.js';
import type { BacktestMetrics } from '../backtest/metrics.js';
import type { TrialDone } from './trials-task.js';

/**
 * The optimization_trials table: where a worker on any machine leaves each trial's metrics for the job
 * that coordinates the optimization. A trial is written once (a retried batch's repeat is ignored) and
 * only while its job runs and no cancel was asked for, so a worker still finishing a canceled batch
 * leaves nothing behind once the coordinator has cleared the job's rows.
 */
export class TrialStore {
  constructor(private readonly db: Db) {}

  /** Writes the trial, unless its job no longer runs or is being canceled, or the trial was written before. */
  async save(jobId: string, done: TrialDone): Promise<void> {
    await this.db.execute(sql`
      insert into ${optimizationTrials} (job_id, trial, metrics)
      select ${jobId}, ${done.trial}, ${JSON.stringify(done.metrics)}::jsonb
      where exists (select 1 from ${jobs} where ${jobs.id} = ${jobId} and ${jobs.status} = 'running' and not ${jobs.cancelRequested})
      on conflict do nothing`);
  }

  /** Which of `trials` are stored already (what a retried batch skips). */
  async storedOf(jobId: string, trials: number[]): Promise<Set<number>> {
    if (trials.length === 0) return new Set();
    const rows = await this.db.select({ trial: optimizationTrials.trial }).from(optimizationTrials).where(and(eq(optimizationTrials.jobId, jobId), inArray(optimizationTrials.trial, trials)));
    return new Set(rows.map((r) => r.trial));
  }

  /** The stored trials of the job not in `seen`, with their metrics. */
  async newSince(jobId: string, seen: ReadonlySet<number>): Promise<TrialDone[]> {
    const known = [...seen];
    const rows = await this.db
      .select({ trial: optimizationTrials.trial, metrics: optimizationTrials.metrics })
      .from(optimizationTrials)
      .where(known.length ? and(eq(optimizationTrials.jobId, jobId), sql`not (${optimizationTrials.trial} = any(${`{${known.join(',')}}`}::int[]))`) : eq(optimizationTrials.jobId, jobId));
    return rows.map((r) => ({ trial: r.trial, metrics: r.metrics as BacktestMetrics }));
  }

  /** Running and not being canceled: whether a worker should go on with the job's trials. */
  async jobRunning(jobId: string): Promise<boolean> {
    const [row] = await this.db.select({ status: jobs.status, cancel: jobs.cancelRequested }).from(jobs).where(eq(jobs.id, jobId));
    return row?.status === 'running' && !row.cancel;
  }

  /** Drops the job's rows once its leaderboard is stored. */
  async clear(jobId: string): Promise<void> {
    await this.db.delete(optimizationTrials).where(eq(optimizationTrials.jobId, jobId));
  }
}
