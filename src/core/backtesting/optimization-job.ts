import { Decimal } from '../decimal.js';
import type { Connectors } from '../exchange/connectors.js';
import type { Market } from '../exchange/types.js';
import type { BacktestSpec } from '../backtest/spec.js';
import type { JobContext, JobRunner } from '../jobs/types.js';
import { type CandleColumns, type CandleReader, loadCandles } from '../backtest/candle-loader.js';
import type { BacktestMetrics } from '../backtest/metrics.js';
import { meetsConstraints, metricValue, OptimizationFields, type OptimizationSpec } from '../backtest/optimization-spec.js';
import { type Params, rankTrials, type Segment, type TrialOutcome } from '../backtest/param-space.js';
import { type ControllerSource, marketOf } from './backtest-job.js';
import { type OptimizationPlan, planOptimization } from './optimization-plan.js';
import type { NewOptimizationRecord, OptimizationStore } from './optimization-store.js';
import type { TrialsWorkerInput } from './pool-worker.js';
import type { TrialDone, TrialRun } from './trials-task.js';
import type { StrategyPool } from './worker-pool.js';

export const OPTIMIZATION_KIND = 'optimization';

/** Share of a job's progress spent reading candles; the trials take the rest. */
const LOAD_SHARE = 0.05;
/** Batches per pool thread a phase is cut into: few enough that a task carries several trials, enough that progress moves and threads end together. */
const BATCHES_PER_THREAD = 4;
const MAX_BATCH = 25;
/** Trials of the leaderboard in the job's summary (what a model reads first). */
export const SUMMARY_TOP = 5;

export interface OptimizationJobDeps {
  connectors: Pick<Connectors, 'get'>;
  candles: CandleReader;
  /** Where the trials run: this process's pool, or the Postgres job queue that workers on other machines share. */
  trials: TrialsBackend;
  store: Pick<OptimizationStore, 'save'>;
  controllers: ControllerSource;
}

/** What one optimization's trials need wherever they run: the base spec, the market, the candles it read. */
export interface TrialSessionInput {
  jobId: string;
  spec: BacktestSpec;
  market: Pick<Market, 'trading_pair' | 'base' | 'quote' | 'rules'>;
  /** On shared memory. */
  columns: CandleColumns;
  warmupBars: number;
  moduleUrl: string | null;
}

export interface TrialSession {
  /** Runs a phase's trials; each one's metrics reach `onEach` once. A cancel ends it early without an error. */
  run(runs: TrialRun[], signal: AbortSignal, onEach: (d: TrialDone) => void): Promise<void>;
  /** Lets go of what the session holds, once the leaderboard is stored. */
  close(): Promise<void>;
}

export interface TrialsBackend {
  open(input: TrialSessionInput): TrialSession;
}

/** Trials on this process's pool, one batch in flight per thread. */
export function localTrials(pool: Pick<StrategyPool, 'run' | 'threads'>): TrialsBackend {
  return {
    open: (input) => {
      const task: Omit<TrialsWorkerInput, 'trials'> = { spec: input.spec, columns: input.columns, market: input.market, ...(input.moduleUrl ? { controllerModule: input.moduleUrl } : {}) };
      return { run: (runs, signal, onEach) => runBatches(pool, task, runs, signal, onEach), close: async () => undefined };
    },
  };
}

export interface RankedTrial {
  rank: number;
  trial: number;
  params: Params;
  metrics: BacktestMetrics;
}

export interface WindowResult {
  window: number;
  in_sample: Segment;
  out_of_sample: Segment;
  /** The in-sample winner; null when no point met the constraints there. */
  params: Params | null;
  in_sample_metrics: BacktestMetrics | null;
  out_of_sample_metrics: BacktestMetrics | null;
}

/**
 * Runs an optimization: reads the candles once (the range plus the warm-up of the most demanding
 * config), puts them on shared memory so every pool worker reads that one copy, and runs the trials
 * in batches on every pool thread, or through the Postgres job queue on whichever workers share the
 * database (see queued-trials.ts). A walk-forward search first fits every window, then scores each
 * winner on its out-of-sample segment. A cancel keeps the trials that finished, ranked, as a partial
 * leaderboard.
 */
export function optimizationRunner(deps: OptimizationJobDeps): JobRunner<unknown, OptimizationSummary> {
  return async (input, ctx) => {
    const spec = OptimizationFields.parse(input);
    const plan = planOptimization(deps.controllers, spec);
    const b = spec.backtest;
    const market = await marketOf(deps.connectors, b);
    ctx.progress(0, 'reading candles');
    const loaded = await loadCandles(
      deps.candles,
      { connector: b.connector, tradingPair: b.trading_pair, interval: b.resolution, start: b.start, end: b.end, warmupBars: plan.warmupBars },
      { signal: ctx.signal, onPage: (done, total) => ctx.progress((LOAD_SHARE * done) / Math.max(total, 1), `reading candles: ${done} of ${total}`) },
    );
    const session = deps.trials.open({ jobId: ctx.jobId, spec: b, market, columns: sharedColumns(loaded.columns), warmupBars: plan.warmupBars, moduleUrl: plan.moduleUrl });
    try {
      return await optimize(deps, ctx, spec, plan, session);
    } finally {
      await session.close();
    }
  };
}

async function optimize(deps: OptimizationJobDeps, ctx: JobContext, spec: OptimizationSpec, plan: OptimizationPlan, session: TrialSession): Promise<OptimizationSummary> {
  const b = spec.backtest;
  const done = new Map<number, BacktestMetrics>();
  const tracker = new ProgressTracker(ctx, spec, plan.trialsTotal);
  const P = plan.points.length;
  const fitTrials = (plan.windows?.length ?? 1) * P;
  const run = (runs: TrialRun[]) =>
    session.run(runs, ctx.signal, (d) => {
      done.set(d.trial, d.metrics);
      tracker.trialDone(d, d.trial < fitTrials ? plan.points[d.trial % P]! : null);
    });

  const outcome = (trial: number): TrialOutcome | null => {
    const metrics = done.get(trial);
    return metrics ? { trial, params: plan.points[trial % P]!, metrics } : null;
  };
  let leaderboard: TrialOutcome[];
  let windows: WindowResult[] | null = null;
  // The plan counts an out-of-sample run per window; a window no point qualified in has none to run.
  let total = plan.trialsTotal;
  if (!plan.windows) {
    await run(plan.configs.map((config, trial) => ({ trial, config, start: b.start, end: b.end })));
    leaderboard = rankTrials(collect(P, 0, outcome), spec.objective, spec.constraints);
  } else {
    // Trial w·P + i is point i fit on window w; trial W·P + w scores window w's winner out of sample.
    const W = plan.windows.length;
    await run(plan.windows.flatMap((w, wi) => plan.configs.map((config, i) => ({ trial: wi * P + i, config, start: w.in_sample.start, end: w.in_sample.end }))));
    const winners = plan.windows.map((_, wi) => rankTrials(collect(P, wi * P, outcome), spec.objective, spec.constraints)[0] ?? null);
    if (!ctx.signal.aborted) {
      total -= winners.filter((w) => w === null).length;
      tracker.total = total;
      await run(plan.windows.flatMap((w, wi) => {
        const win = winners[wi];
        return win ? [{ trial: W * P + wi, config: plan.configs[win.trial - wi * P]!, start: w.out_of_sample.start, end: w.out_of_sample.end }] : [];
      }));
    }
    windows = plan.windows.map((w, wi) => ({
      window: wi,
      in_sample: w.in_sample,
      out_of_sample: w.out_of_sample,
      params: winners[wi]?.params ?? null,
      in_sample_metrics: winners[wi]?.metrics ?? null,
      out_of_sample_metrics: done.get(W * P + wi) ?? null,
    }));
    // The leaderboard is the newest window's fit: the points ranked on the most recent in-sample data.
    leaderboard = rankTrials(collect(P, (W - 1) * P, outcome), spec.objective, spec.constraints).map((t) => ({ ...t, trial: t.trial - (W - 1) * P }));
  }

  const ranked: RankedTrial[] = leaderboard.slice(0, spec.top_n).map((t, i) => ({ rank: i + 1, trial: t.trial, params: t.params, metrics: t.metrics }));
  const record: NewOptimizationRecord = {
    jobId: ctx.jobId,
    spec,
    leaderboard: ranked,
    windows,
    trialsDone: done.size,
    trialsTotal: total,
    // Of the trials ranked: an out-of-sample run competes for nothing.
    trialsRejected: [...done].filter(([trial, m]) => trial < fitTrials && (metricValue(m, spec.objective.metric) === null || !meetsConstraints(m, spec.constraints))).length,
    partial: done.size < total,
  };
  await deps.store.save(record);
  // A stopped run shows how far it got, not 100%.
  ctx.progress(record.partial ? LOAD_SHARE + (1 - LOAD_SHARE) * (done.size / total) : 1, `done: ${done.size} of ${total} trials`);
  return summaryOf(record, spec);
}

function collect(count: number, offset: number, outcome: (trial: number) => TrialOutcome | null): TrialOutcome[] {
  const out: TrialOutcome[] = [];
  for (let i = 0; i < count; i++) {
    const o = outcome(offset + i);
    if (o) out.push(o);
  }
  return out;
}

/** The columns copied once onto shared memory: every worker of the pool reads them without a copy of its own. */
export function sharedColumns(c: CandleColumns): CandleColumns {
  const n = c.time.length;
  const buf = new SharedArrayBuffer(Math.max(n, 1) * 8 * 6);
  const col = (k: number, src: Float64Array) => {
    const a = new Float64Array(buf, k * n * 8, n);
    a.set(src);
    return a;
  };
  return { time: col(0, c.time), open: col(1, c.open), high: col(2, c.high), low: col(3, c.low), close: col(4, c.close), volume: col(5, c.volume) };
}

/**
 * Runs `runs` on the pool in batches, one batch in flight per pool thread. Each trial's metrics reach
 * `onTrial` once, as it ends (a batch's return repeats them, so none is lost to a closing port). A
 * cancel stops the batches in flight and starts no other; an error ends the rest too and is thrown.
 */
export async function runBatches(pool: Pick<StrategyPool, 'run' | 'threads'>, task: Omit<TrialsWorkerInput, 'trials'>, runs: TrialRun[], signal: AbortSignal, onEach: (d: TrialDone) => void): Promise<void> {
  if (runs.length === 0) return;
  const seen = new Set<number>();
  const onTrial = (d: TrialDone) => {
    if (seen.has(d.trial)) return;
    seen.add(d.trial);
    onEach(d);
  };
  const size = Math.min(MAX_BATCH, Math.max(1, Math.ceil(runs.length / (pool.threads * BATCHES_PER_THREAD))));
  const batches: TrialRun[][] = [];
  for (let i = 0; i < runs.length; i += size) batches.push(runs.slice(i, i + size));
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  const lane = async () => {
    while (next < batches.length && !stop.signal.aborted) {
      const trials = batches[next++]!;
      try {
        const out = await pool.run<TrialsWorkerInput, TrialDone[]>({ name: 'trials', input: { ...task, trials } }, { signal: stop.signal, onMessage: (m) => onTrial(m as TrialDone) });
        for (const d of out) onTrial(d);
      } catch (err) {
        if (signal.aborted) return;
        stop.abort(err);
        throw err;
      }
    }
  };
  try {
    const lanes = await Promise.allSettled(Array.from({ length: Math.min(pool.threads, batches.length) }, lane));
    const failed = lanes.find((l) => l.status === 'rejected');
    if (failed && !signal.aborted) throw failed.reason;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Trials done, the best so far and the time left, as the job's progress. */
class ProgressTracker {
  #done = 0;
  #best: { trial: number; value: number; params: Params } | null = null;
  readonly #started: number;

  constructor(
    private readonly ctx: JobContext,
    private readonly spec: OptimizationSpec,
    /** Trials to run; lowered once a walk-forward knows which windows have an out-of-sample run. */
    public total: number,
  ) {
    this.#started = ctx.clock.now();
  }

  /** `params` is null for an out-of-sample run, which competes for nothing. */
  trialDone(d: TrialDone, params: Params | null): void {
    this.#done++;
    const v = metricValue(d.metrics, this.spec.objective.metric);
    if (params && v !== null && meetsConstraints(d.metrics, this.spec.constraints)) {
      const better = !this.#best || (this.spec.objective.direction === 'maximize' ? v > this.#best.value : v < this.#best.value);
      if (better) this.#best = { trial: d.trial, value: v, params };
    }
    const share = this.#done / this.total;
    const elapsed = this.ctx.clock.now() - this.#started;
    const left = Math.round((elapsed * (1 - share)) / share / 1000);
    const best = this.#best ? `, best ${this.spec.objective.metric} ${round(this.#best.value)} at ${JSON.stringify(this.#best.params)}` : '';
    this.ctx.progress(LOAD_SHARE + (1 - LOAD_SHARE) * share, `trials: ${this.#done} of ${this.total}${best}, about ${left} s left`);
  }
}

const round = (x: number) => Number(x.toPrecision(6));

/** The metrics a model reads first of each top trial. */
const KEY_METRICS = ['net_pnl_quote', 'net_pnl_pct', 'max_drawdown_pct', 'sharpe_ratio', 'win_rate', 'profit_factor', 'total_executors'] as const;

export interface OptimizationSummary {
  result_id: string;
  trials_done: number;
  trials_total: number;
  trials_rejected: number;
  partial: boolean;
  objective: OptimizationSpec['objective'];
  top: Array<{ rank: number; trial: number; params: Params; objective_value: number | null; metrics: Record<string, unknown> }>;
  windows: Array<{ window: number; params: Params | null; in_sample_value: number | null; out_of_sample_value: number | null }> | null;
  /** Mean objective of the walk-forward winners out of sample (null when none was scored). */
  out_of_sample_mean: number | null;
}

export function summaryOf(r: NewOptimizationRecord, spec: OptimizationSpec): OptimizationSummary {
  const metric = spec.objective.metric;
  const key = (m: BacktestMetrics) => Object.fromEntries(KEY_METRICS.map((k) => [k, m[k]]));
  const windows = (r.windows as WindowResult[] | null)?.map((w) => ({
    window: w.window,
    params: w.params,
    in_sample_value: w.in_sample_metrics ? metricValue(w.in_sample_metrics, metric) : null,
    out_of_sample_value: w.out_of_sample_metrics ? metricValue(w.out_of_sample_metrics, metric) : null,
  })) ?? null;
  const scored = windows?.map((w) => w.out_of_sample_value).filter((v): v is number => v !== null) ?? [];
  return {
    result_id: r.jobId,
    trials_done: r.trialsDone,
    trials_total: r.trialsTotal,
    trials_rejected: r.trialsRejected,
    partial: r.partial,
    objective: spec.objective,
    top: (r.leaderboard as RankedTrial[]).slice(0, SUMMARY_TOP).map((t) => ({ rank: t.rank, trial: t.trial, params: t.params, objective_value: metricValue(t.metrics, metric), metrics: key(t.metrics) })),
    windows,
    // Summed as the decimals the values print as: a float sum would end in ...000003.
    out_of_sample_mean: scored.length ? scored.reduce((s, v) => s.plus(String(v)), new Decimal(0)).div(scored.length).toNumber() : null,
  };
}
