import { AppError, invalidField } from '../errors.js';
import type { JobPage, Jobs } from '../jobs/jobs.js';
import type { JobView } from '../jobs/job-view.js';
import type { Principal } from '../principal.js';
import type { Clock } from '../clock.js';
import type { BacktestMetrics } from '../backtest/metrics.js';
import { OptimizationFields, type OptimizationSpec } from '../backtest/optimization-spec.js';
import { type Params, withParams } from '../backtest/param-space.js';
import { type ControllerSource, marketOf, resolveBacktest } from './backtest-job.js';
import type { Connectors } from '../exchange/connectors.js';
import { checkBacktestRange } from './backtests.js';
import { OPTIMIZATION_KIND } from './optimization-job.js';
import { type OptimizationPlan, planOptimization } from './optimization-plan.js';
import { INTERVAL_MS } from '../exchange/types.js';
import type { OptimizationRecord, OptimizationStore } from './optimization-store.js';

/**
 * Candles an optimization may walk in all, trial after trial: at today's engine speed about an hour
 * of both cores' time for a busy controller. Past it a search is refused before it starts rather than
 * left to run for a day.
 */
export const MAX_SEARCH_CANDLES = 1_000_000_000;

function checkSearchCost(spec: OptimizationSpec, plan: OptimizationPlan): void {
  const step = INTERVAL_MS[spec.backtest.resolution];
  const candles = (s: { start: number; end: number }) => Math.max(0, Math.floor(s.end / step) - Math.ceil(s.start / step) + 1);
  const walked = plan.windows
    ? plan.windows.reduce((sum, w) => sum + plan.points.length * candles(w.in_sample) + candles(w.out_of_sample), 0)
    : plan.trialsTotal * candles(spec.backtest);
  if (walked > MAX_SEARCH_CANDLES) {
    throw invalidField('space', `the search walks ${walked.toLocaleString('en-US')} candles in all (${plan.trialsTotal.toLocaleString('en-US')} trials); at most ${MAX_SEARCH_CANDLES.toLocaleString('en-US')} per optimization (a coarser space, a random search with a smaller n, a shorter range or a longer resolution)`);
  }
}

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
    private readonly connectors: Pick<Connectors, 'get'>,
    private readonly clock: Clock,
  ) {}

  async start(spec: OptimizationSpec, principal: Principal): Promise<JobView> {
    checkBacktestRange(spec.backtest, this.clock.now(), 0, 'backtest.');
    const plan = planOptimization(this.controllers, spec);
    checkBacktestRange(spec.backtest, this.clock.now(), plan.warmupBars, 'backtest.');
    checkSearchCost(spec, plan);
    await marketOf(this.connectors, spec.backtest, 'backtest.');
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

  /**
   * The controller config of the leaderboard's `rank`-th trial (1: the best): the base config with the
   * trial's params set, on the optimization's market. Canceled runs count: their leaderboard is real.
   */
  async trialConfig(id: string, principal: Principal, rank: number): Promise<{ controllerName: string; config: Record<string, unknown>; trial: { rank: number; trial: number; params: Params; metrics: BacktestMetrics } }> {
    const { job, record } = await this.result(id, principal);
    if (!record) {
      throw new AppError('PRECONDITION_FAILED', `Optimization ${id} is ${job.status}; it has no leaderboard${job.status === 'queued' || job.status === 'running' ? ' yet' : ''}.`, {
        hint: job.status === 'queued' || job.status === 'running' ? 'Poll backtesting_get_optimization until it ends.' : 'Run it again with backtesting_run_optimization.',
        details: { job_id: id, status: job.status },
      });
    }
    const board = record.leaderboard as Array<{ rank: number; trial: number; params: Params; metrics: BacktestMetrics }>;
    const trial = board[rank - 1];
    if (!trial) throw invalidField('rank', board.length === 0 ? 'the leaderboard is empty: no trial met the constraints' : `the leaderboard has ${board.length} trials`);
    const spec = OptimizationFields.parse(record.spec);
    // The params go onto the parsed base config, as in the run: a nested field keeps its siblings' defaults.
    const base = resolveBacktest(this.controllers, spec.backtest).config as Record<string, unknown>;
    return { controllerName: spec.backtest.controller.name, config: withParams(base, trial.params), trial };
  }

  list(principal: Principal, page: { limit: number; cursor?: string; status?: JobView['status'] }): Promise<JobPage> {
    return this.jobs.list(principal, { kind: OPTIMIZATION_KIND, limit: page.limit, ...(page.cursor ? { cursor: page.cursor } : {}), ...(page.status ? { status: page.status } : {}) });
  }

  remove(id: string, principal: Principal): Promise<void> {
    return this.jobs.remove(id, principal, OPTIMIZATION_KIND);
  }

  private async ofKind(id: string, principal: Principal): Promise<JobView> {
    const job = await this.jobs.get(id, principal);
    if (job.kind !== OPTIMIZATION_KIND) throw new AppError('NOT_FOUND', `No optimization ${id}.`, { hint: 'GET /backtesting/optimizations lists your optimizations.' });
    return job;
  }
}
