import { AppError } from '../errors.js';
import type { JobPage, Jobs } from '../jobs/jobs.js';
import type { JobView } from '../jobs/job-view.js';
import type { Principal } from '../principal.js';
import type { Clock } from '../clock.js';
import type { OptimizationSpec } from '../backtest/optimization-spec.js';
import type { ControllerSource } from './backtest-job.js';
import { checkBacktestRange } from './backtests.js';
import { OPTIMIZATION_KIND } from './optimization-job.js';
import { planOptimization } from './optimization-plan.js';
import type { OptimizationRecord, OptimizationStore } from './optimization-store.js';

/**
 * Optimizations as the faces see them: the whole search planned and every trial config parsed before a
 * job exists, the job that runs it, and its stored leaderboard (a canceled one's too, marked partial).
 * Visibility is the job's: a user sees its own, an admin all.
 */
export class Optimizations {
  constructor(
    private readonly jobs: Jobs,
    private readonly store: OptimizationStore,
    private readonly controllers: ControllerSource,
    private readonly clock: Clock,
  ) {}

  async start(spec: OptimizationSpec, principal: Principal): Promise<JobView> {
    checkBacktestRange(spec.backtest, this.clock.now(), 'backtest.');
    planOptimization(this.controllers, spec);
    return this.jobs.create(OPTIMIZATION_KIND, spec, principal);
  }

  job(id: string, principal: Principal): Promise<JobView> {
    return this.ofKind(id, principal);
  }

  /** The job and, once it ended with a leaderboard (succeeded, or canceled with what finished), the leaderboard. */
  async result(id: string, principal: Principal): Promise<{ job: JobView; record: OptimizationRecord | null }> {
    const job = await this.ofKind(id, principal);
    return { job, record: job.status === 'queued' || job.status === 'running' ? null : ((await this.store.get(id)) ?? null) };
  }

  list(principal: Principal, page: { limit: number; cursor?: string; status?: JobView['status'] }): Promise<JobPage> {
    return this.jobs.list(principal, { kind: OPTIMIZATION_KIND, limit: page.limit, ...(page.cursor ? { cursor: page.cursor } : {}), ...(page.status ? { status: page.status } : {}) });
  }

  remove(id: string, principal: Principal): Promise<void> {
    return this.jobs.remove(id, principal, OPTIMIZATION_KIND);
  }

  private async ofKind(id: string, principal: Principal): Promise<JobView> {
    const job = await this.jobs.get(id, principal);
    if (job.kind !== OPTIMIZATION_KIND) throw new AppError('NOT_FOUND', `No optimization ${id}.`, { hint: 'backtesting_list_optimizations lists your optimizations.' });
    return job;
  }
}
