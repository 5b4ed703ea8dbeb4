import { AppError, invalidField } from '../errors.js';
import { INTERVAL_MS } from '../exchange/types.js';
import type { JobPage, Jobs } from '../jobs/jobs.js';
import type { JobView } from '../jobs/job-view.js';
import type { Principal } from '../principal.js';
import type { Clock } from '../clock.js';
import { BACKTEST_KIND, type ControllerSource, marketOf, resolveBacktest, warmupCandles } from './backtest-job.js';
import type { Connectors } from '../exchange/connectors.js';
import type { BacktestRecord, BacktestStore } from './backtest-store.js';
import type { BacktestSpec } from '../backtest/spec.js';

/** Candles one backtest may walk: about four years of 1m candles, a few hundred MB of worker memory at most. */
export const MAX_BACKTEST_CANDLES = 2_200_000;

/**
 * The range a backtest walks, checked against now and the candle cap, counting the `warmup` candles
 * its controller reads before the start (they are loaded too); `prefix` places the paths (`backtest.`).
 */
export function checkBacktestRange(spec: Pick<BacktestSpec, 'start' | 'end' | 'resolution'>, now: number, warmup: number, prefix = ''): void {
  if (spec.end > now) throw invalidField(`${prefix}end`, 'must not be in the future: a backtest runs over closed candles');
  const step = INTERVAL_MS[spec.resolution];
  // The candle open now is still moving: a range that holds it would give another answer run again.
  // Weeks open on the exchange's weekday, not the epoch's: there the range's end itself must be a closed week old.
  const lastOpen = spec.resolution === '1w' ? spec.end : Math.floor(spec.end / step) * step;
  if (lastOpen + step > now) {
    const latest = spec.resolution === '1w' ? now - step : Math.floor(now / step) * step - 1;
    throw invalidField(`${prefix}end`, `must be at most ${new Date(latest).toISOString()}: the ${spec.resolution} candle it reaches has not closed yet, and a backtest runs over closed candles only`);
  }
  const candles = Math.floor(spec.end / step) - Math.ceil(spec.start / step) + 1;
  if (candles < 1) throw invalidField(`${prefix}end`, `the range holds no ${spec.resolution} candle`);
  if (candles > MAX_BACKTEST_CANDLES) throw invalidField(`${prefix}start`, `the range holds ${candles} ${spec.resolution} candles; at most ${MAX_BACKTEST_CANDLES} per backtest (shorten it or use a longer resolution)`);
  if (candles + warmup > MAX_BACKTEST_CANDLES) {
    throw invalidField(
      `${prefix}controller.config`,
      `the controller reads ${warmup} ${spec.resolution} candles before the start (its longest lookback at its interval); with the range's ${candles} that is over the ${MAX_BACKTEST_CANDLES} a backtest may load (shorten the lookback, or use a longer resolution)`,
    );
  }
}

/**
 * Backtests as the faces see them: a spec checked (controller, config, range) before a job exists, the
 * job that runs it, and its stored result. Visibility is the job's: a user sees its own, an admin all.
 */
export class Backtests {
  constructor(
    private readonly jobs: Jobs,
    private readonly store: BacktestStore,
    private readonly controllers: ControllerSource,
    private readonly connectors: Pick<Connectors, 'get'>,
    private readonly clock: Clock,
  ) {}

  /** Checks everything a run needs that can be known now; a bad spec never becomes a job. */
  async start(spec: BacktestSpec, principal: Principal): Promise<JobView> {
    const { definition, config } = resolveBacktest(this.controllers, spec);
    checkBacktestRange(spec, this.clock.now(), warmupCandles(definition, config, spec));
    await marketOf(this.connectors, spec);
    return this.jobs.create(BACKTEST_KIND, spec, principal);
  }

  job(id: string, principal: Principal): Promise<JobView> {
    return this.ofKind(id, principal);
  }

  /** The job and, once it succeeded, its stored result. */
  async result(id: string, principal: Principal): Promise<{ job: JobView; record: BacktestRecord | null }> {
    const job = await this.ofKind(id, principal);
    return { job, record: job.status === 'succeeded' ? ((await this.store.get(id)) ?? null) : null };
  }

  list(principal: Principal, page: { limit: number; cursor?: string; status?: JobView['status'] }): Promise<JobPage> {
    return this.jobs.list(principal, { kind: BACKTEST_KIND, limit: page.limit, ...(page.cursor ? { cursor: page.cursor } : {}), ...(page.status ? { status: page.status } : {}) });
  }

  remove(id: string, principal: Principal): Promise<void> {
    return this.jobs.remove(id, principal, BACKTEST_KIND);
  }

  private async ofKind(id: string, principal: Principal): Promise<JobView> {
    const job = await this.jobs.get(id, principal);
    if (job.kind !== BACKTEST_KIND) throw new AppError('NOT_FOUND', `No backtest ${id}.`, { hint: 'GET /backtesting/results lists your backtests.' });
    return job;
  }
}

