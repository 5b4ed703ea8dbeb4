import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { createLogger } from '../../../src/core/logger.js';
import type { ControllerSource } from '../../../src/core/backtesting/backtest-job.js';
import type { TrialsWorkerInput } from '../../../src/core/backtesting/pool-worker.js';
import type { TakenBatch, TrialBatch } from '../../../src/core/backtesting/trial-queue.js';
import { TrialWorker } from '../../../src/core/backtesting/trial-worker.js';
import type { TrialDone } from '../../../src/core/backtesting/trials-task.js';
import type { PoolRunOptions, PoolTask } from '../../../src/core/backtesting/worker-pool.js';
import { SHIPPED_CONTROLLERS } from '../../../src/core/strategy/controllers/index.js';
import { VERSION } from '../../../src/version.js';
import { waitFor } from '../../helpers/wait.js';
import { emptyMetrics } from '../backtest/metrics-fixture.js';

const MINUTE = 60_000;
const START = Date.UTC(2024, 0, 1);
const controllers: ControllerSource = {
  controller: (name) => {
    const definition = SHIPPED_CONTROLLERS.find((d) => d.name === name);
    return definition ? { definition, moduleUrl: null } : undefined;
  },
};

const batch = (id: string, trials: number[], over: Partial<TrialBatch> = {}): TakenBatch => ({
  id,
  retryCount: 0,
  data: {
    job_id: 'job_1',
    code_version: VERSION,
    sim_seed: 'sim',
    spec: { controller: { name: 'bollinger_v1', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: START, end: START + 9 * MINUTE, resolution: '1m' } as TrialBatch['spec'],
    market: {} as TrialBatch['market'],
    warmup_bars: 2,
    trials: trials.map((trial) => ({ trial, config: {}, start: START, end: START + 9 * MINUTE })),
    ...over,
  },
});

/** A worker over an in-memory queue, trial table and pool; `hold` makes the pool wait for an abort before a trial. */
function setup(opts: { batches: TakenBatch[]; stored?: number[]; running?: boolean; hold?: number; failOn?: number }) {
  const waiting = [...opts.batches];
  const calls: string[] = [];
  const saved: number[] = [];
  const ran: number[][] = [];
  const candleReads: string[] = [];
  let held = true;
  const queue = {
    take: async (n: number) => waiting.splice(0, n),
    stillHeld: async () => held,
    complete: async (id: string) => void calls.push(`complete ${id}`),
    fail: async (id: string, message: string) => void calls.push(`fail ${id}: ${message}`),
    handBack: async (id: string) => void calls.push(`hand back ${id}`),
  };
  const store = {
    save: async (_job: string, d: TrialDone) => void saved.push(d.trial),
    storedOf: async (_job: string, trials: number[]) => new Set(trials.filter((t) => opts.stored?.includes(t))),
    jobRunning: async () => opts.running ?? true,
  };
  const pool = {
    threads: 2,
    async run<T, R>(task: PoolTask<T>, o: PoolRunOptions = {}): Promise<R> {
      const input = task.input as TrialsWorkerInput;
      ran.push(input.trials.map((t) => t.trial));
      const out: TrialDone[] = [];
      for (const t of input.trials) {
        if (t.trial === opts.hold) await new Promise((_, reject) => o.signal?.addEventListener('abort', () => reject(o.signal!.reason), { once: true }));
        if (t.trial === opts.failOn) throw new Error(`trial ${t.trial} broke`);
        const d = { trial: t.trial, metrics: emptyMetrics() };
        o.onMessage?.(d);
        out.push(d);
      }
      return out as R;
    },
  };
  const reader = { candles: async (_c: string, _p: string, _i: string, q: { since?: number; limit: number }) => (candleReads.push(`${q.since}`), Array.from({ length: q.limit }, (_, i) => ({ time: (q.since ?? 0) + i * MINUTE, open: 1, high: 1, low: 1, close: 1, volume: 1 }))) };
  const logged: string[] = [];
  const logger = createLogger('info', {}, (line) => void logged.push((JSON.parse(line) as { msg: string }).msg));
  const worker = new TrialWorker({ queue, store, pool, candles: () => reader as never, controllers, clock: systemClock, logger }, { pollMs: 5, heldCheckMs: 5 });
  return { worker, calls, saved, ran, candleReads, logged, drop: () => (held = false) };
}

describe('a worker taking optimization batches', () => {
  it('runs only the trials a retried batch has not stored yet, saves each, completes the batch, and reads the candles once per job', async () => {
    const s = setup({ batches: [batch('b1', [0, 1, 2, 3]), batch('b2', [4, 5])], stored: [1, 2] });
    s.worker.start();
    await waitFor('both batches to complete', () => s.calls.length === 2);
    await s.worker.stop();
    expect(s.ran.sort()).toEqual([[0, 3], [4, 5]]);
    expect(s.saved.sort()).toEqual([0, 3, 4, 5]);
    expect(s.calls.sort()).toEqual(['complete b1', 'complete b2']);
    expect(s.candleReads.length).toBe(1);
  });

  it('on stop it hands a running batch back to the queue, keeping what finished', async () => {
    const s = setup({ batches: [batch('b1', [0, 1, 2])], hold: 1 });
    s.worker.start();
    await waitFor('the first trial to be saved', () => s.saved.length === 1);
    await s.worker.stop();
    expect(s.saved).toEqual([0]);
    expect(s.calls).toEqual(['fail b1: a worker stopped while running it']);
  });

  it('stops a batch that is no longer its own (canceled, or handed to another worker) and reports nothing for it', async () => {
    const s = setup({ batches: [batch('b1', [0, 1])], hold: 1 });
    s.worker.start();
    await waitFor('the first trial to be saved', () => s.saved.length === 1);
    s.drop();
    await waitFor('the batch to stop', () => s.logged.includes('stopped an optimization batch that is no longer wanted'));
    await s.worker.stop();
    expect(s.calls).toEqual([]);
    expect(s.saved).toEqual([0]);
  });

  it('skips a batch whose optimization no longer runs, and fails one whose trial throws, with its message', async () => {
    const ended = setup({ batches: [batch('b1', [0])], running: false });
    ended.worker.start();
    await waitFor('the batch to be completed', () => ended.calls.length === 1);
    await ended.worker.stop();
    expect(ended.calls).toEqual(['complete b1']);
    expect(ended.ran).toEqual([]);

    const broken = setup({ batches: [batch('b2', [0, 1])], failOn: 1 });
    broken.worker.start();
    await waitFor('the batch to fail', () => broken.calls.length === 1);
    await broken.worker.stop();
    expect(broken.calls).toEqual(['fail b2: trial 1 broke']);
    expect(broken.saved).toEqual([0]);
  });

  it('hands back a batch of another version, or of a controller it lacks, and takes no batch until that optimization ends', async () => {
    // Two lanes: the first take gets `old` and `b2` (b2 of the same job runs: it was already in hand); b3 waits.
    const opts = { batches: [batch('old', [0], { code_version: '0.0.1' }), batch('b2', [1]), batch('b3', [3])], running: true };
    const s = setup(opts);
    s.worker.start();
    await waitFor('the first two batches to end', () => s.calls.length === 2);
    expect(s.calls).toContain('hand back old');
    expect(s.logged).toContain('handed back an optimization batch it cannot run, and takes no batch until that optimization ends');
    await new Promise((r) => setTimeout(r, 60));
    // While that optimization runs, b3 stays in the queue for the workers that can run it.
    expect(s.calls).toHaveLength(2);
    opts.running = false;
    await waitFor('b3 to be taken once the optimization ended', () => s.calls.length === 3);
    await s.worker.stop();
    expect(s.calls[2]).toBe('complete b3');

    const lacking = setup({ batches: [batch('custom', [2], { spec: { ...batch('x', []).data.spec, controller: { name: 'range_watch_v1', config: {} } } })] });
    lacking.worker.start();
    await waitFor('the batch to be handed back', () => lacking.calls.length === 1);
    await lacking.worker.stop();
    expect(lacking.calls).toEqual(['hand back custom']);
    expect(lacking.ran).toEqual([]);
  });
});
