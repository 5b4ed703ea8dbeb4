import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.js';
import { OptimizationFields } from '../../../src/core/backtest/optimization-spec.js';
import type { ControllerSource } from '../../../src/core/backtesting/backtest-job.js';
import { runBatches } from '../../../src/core/backtesting/optimization-job.js';
import { planOptimization } from '../../../src/core/backtesting/optimization-plan.js';
import type { TrialsWorkerInput } from '../../../src/core/backtesting/pool-worker.js';
import type { TrialDone, TrialRun } from '../../../src/core/backtesting/trials-task.js';
import type { PoolRunOptions, PoolTask } from '../../../src/core/backtesting/worker-pool.js';
import { SHIPPED_CONTROLLERS } from '../../../src/core/strategy/controllers/index.js';
import { emptyMetrics } from '../backtest/metrics-fixture.js';

const DAY = 86_400_000;
const base = { controller: { name: 'bollinger_v1', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 0, 1) + 4 * DAY - 60_000 };
/** The shipped controllers by name, as the strategy catalog serves them. */
const shipped: ControllerSource = {
  controller: (name) => {
    const definition = SHIPPED_CONTROLLERS.find((d) => d.name === name);
    return definition ? { definition, moduleUrl: null } : undefined;
  },
};
const controllers = shipped;
const plan = (over: Record<string, unknown>) => planOptimization(controllers, OptimizationFields.parse({ backtest: base, space: { bb_length: { min: 20, max: 50, step: 10 } }, objective: { metric: 'net_pnl_pct' }, ...over }));

/** A pool that runs a batch by posting each trial's metrics and returning them all, like the worker. */
function fakePool(threads: number, opts: { failOn?: number; holdFrom?: number } = {}) {
  const batches: number[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    batches,
    maxInFlight: () => maxInFlight,
    threads,
    async run<T, R>(task: PoolTask<T>, o: PoolRunOptions = {}): Promise<R> {
      const trials = (task.input as TrialsWorkerInput).trials;
      batches.push(trials.map((t) => t.trial));
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const out: TrialDone[] = [];
        for (const t of trials) {
          await new Promise((r) => setTimeout(r, 1));
          if (t.trial === opts.failOn) throw new Error('worker died');
          if (opts.holdFrom !== undefined && t.trial >= opts.holdFrom) {
            await new Promise((_, reject) => o.signal?.addEventListener('abort', () => reject(o.signal!.reason), { once: true }));
          }
          const d = { trial: t.trial, metrics: emptyMetrics() };
          o.onMessage?.(d);
          out.push(d);
        }
        return out as R;
      } finally {
        inFlight--;
      }
    },
  };
}

const runs = (n: number): TrialRun[] => Array.from({ length: n }, (_, trial) => ({ trial, config: {}, start: 0, end: 1 }));
const task = {} as Omit<TrialsWorkerInput, 'trials'>;

describe('trial batches on the pool', () => {
  it('cuts the trials into batches, keeps one batch per thread in flight, and reports each trial once', async () => {
    const pool = fakePool(2);
    const seen: number[] = [];
    await runBatches(pool, task, runs(20), new AbortController().signal, (d) => seen.push(d.trial));
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // 20 trials, 2 threads × 4 batches each: batches of 3.
    expect(pool.batches.map((b) => b.length)).toEqual([3, 3, 3, 3, 3, 3, 2]);
    expect(pool.maxInFlight()).toBe(2);
  });

  it('a cancel keeps what finished and starts no other batch', async () => {
    // One thread, batches of 10: the cancel lands inside the second batch.
    const pool = fakePool(1, { holdFrom: 12 });
    const ac = new AbortController();
    const seen: number[] = [];
    await runBatches(pool, task, runs(40), ac.signal, (d) => {
      seen.push(d.trial);
      if (d.trial === 11) setTimeout(() => ac.abort(new Error('canceled')), 5);
    });
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(pool.batches).toHaveLength(2);
  });

  it('a failing batch ends the others and is thrown', async () => {
    const pool = fakePool(2, { failOn: 7 });
    await expect(runBatches(pool, task, runs(40), new AbortController().signal, () => undefined)).rejects.toThrow('worker died');
  });
});

describe('optimization plan', () => {
  it('parses every trial config and takes the warm-up of the longest', () => {
    const p = plan({});
    expect(p.trialsTotal).toBe(4);
    expect(p.configs.map((c) => c.bb_length)).toEqual([20, 30, 40, 50]);
    expect(p.configs.every((c) => c.connector_name === 'sim' && c.trading_pair === 'BTC-USDT')).toBe(true);
    expect(p.warmupBars).toBeGreaterThanOrEqual(50);
  });

  it('counts walk-forward trials as windows × (points + 1) and refuses more than max_trials on search.windows', () => {
    const p = plan({ search: { method: 'walk_forward', windows: 3, in_sample_segments: 1 } });
    expect(p.trialsTotal).toBe(3 * 5);
    expect(p.windows).toHaveLength(3);
    try {
      plan({ search: { method: 'walk_forward', windows: 3 }, max_trials: 5 });
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).details).toEqual({ issues: [{ path: 'search.windows', message: 'the search needs 15 trials (3 windows × (4 points + 1 out-of-sample run)), more than max_trials (5)' }] });
    }
    // Random candidates: the count is the draw's, named on search.candidates.n.
    try {
      plan({ search: { method: 'walk_forward', windows: 2, candidates: { method: 'random', n: 3, random_state: 1 } }, max_trials: 7 });
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).details).toEqual({ issues: [{ path: 'search.candidates.n', message: 'the search needs 8 trials (2 windows × (3 points + 1 out-of-sample run)), more than max_trials (7)' }] });
    }
  });

  it('reports the first bad trial on its space field, with its number and params', () => {
    try {
      plan({ space: { bb_length: { values: [20, 30] }, bb_std: { values: [2, 0] } } });
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).details).toMatchObject({ trial: 1, params: { bb_length: 20, bb_std: 0 }, issues: [{ path: 'space.bb_std' }] });
    }
  });
});
