import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { AppError } from '../../../src/core/errors.js';
import { createLogger } from '../../../src/core/logger.js';
import type { TrialSessionInput } from '../../../src/core/backtesting/optimization-job.js';
import { batchSize, queuedTrials } from '../../../src/core/backtesting/queued-trials.js';
import type { BatchState, TrialBatch } from '../../../src/core/backtesting/trial-queue.js';
import type { TrialDone, TrialRun } from '../../../src/core/backtesting/trials-task.js';
import { emptyMetrics } from '../backtest/metrics-fixture.js';

const JOB = 'job_1';
const runs = (from: number, n: number): TrialRun[] => Array.from({ length: n }, (_, i) => ({ trial: from + i, config: {}, start: 0, end: 1 }));
const done = (trial: number): TrialDone => ({ trial, metrics: { ...emptyMetrics(), total_executors: trial } });

/** The queue and the trial table in memory; `work` plays the workers: what they do with each batch sent. */
function fakes(work: (batch: TrialBatch, id: string, f: { store: (t: number) => void; state: (s: BatchState, message?: string) => void }) => void) {
  const rows = new Map<number, TrialDone>();
  const states = new Map<string, { state: BatchState; message: string | null }>();
  const sent: Array<{ id: string; batch: TrialBatch }> = [];
  const canceled: string[] = [];
  const events: string[] = [];
  let n = 0;
  const queue = {
    send: async (batches: TrialBatch[]) => {
      const ids = batches.map(() => `b${n++}`);
      batches.forEach((batch, i) => {
        const id = ids[i]!;
        sent.push({ id, batch });
        states.set(id, { state: 'created', message: null });
        setTimeout(() => work(batch, id, { store: (t) => rows.set(t, done(t)), state: (s, m) => states.set(id, { state: s, message: m ?? null }) }), 5);
      });
      return ids;
    },
    cancel: async (ids: string[]) => {
      canceled.push(...ids);
      for (const id of ids) states.set(id, { state: 'cancelled', message: null });
    },
    states: async (ids: string[]) => new Map(ids.filter((id) => states.has(id)).map((id) => [id, states.get(id)!])),
  };
  const store = {
    newSince: async (_job: string, seen: ReadonlySet<number>) => [...rows.values()].filter((d) => !seen.has(d.trial)),
    clear: async () => {
      events.push('clear');
      rows.clear();
    },
  };
  const local = { prime: (id: string) => events.push(`prime ${id}`), unprime: (id: string) => events.push(`unprime ${id}`) };
  const backend = queuedTrials({ queue, store, local, simSeed: 'seed-x', clock: systemClock, logger: createLogger('silent'), pollMs: 5, statesEveryMs: 5 });
  const input = { jobId: JOB, spec: { connector: 'sim' }, market: {}, columns: {}, warmupBars: 7, moduleUrl: null } as unknown as TrialSessionInput;
  return { backend, input, sent, canceled, events };
}

describe('optimization trials through the queue (coordinator)', () => {
  it('cuts a phase into batches of at most 25 trials, about 64 of them', () => {
    expect([1, 12, 64, 65, 140, 1600, 10_000].map(batchSize)).toEqual([1, 1, 1, 2, 3, 25, 25]);
  });

  it('sends the batches with the seed, spec and warm-up, and reports each stored trial once, across phases', async () => {
    // Workers store every trial of a batch, some twice (a retried batch), and complete it.
    const f = fakes((batch, _id, w) => {
      for (const t of batch.trials) w.store(t.trial);
      w.store(batch.trials[0]!.trial);
      w.state('completed');
    });
    const session = f.backend.open(f.input);
    const seen: number[] = [];
    await session.run(runs(0, 130), new AbortController().signal, (d) => seen.push(d.trial));
    await session.run(runs(130, 2), new AbortController().signal, (d) => seen.push(d.trial));
    await session.close();
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 132 }, (_, i) => i));
    expect(f.sent.map((s) => s.batch.trials.length)).toEqual([...Array(43).fill(3), 1, 1, 1]);
    expect(f.sent[0]!.batch).toMatchObject({ job_id: JOB, sim_seed: 'seed-x', spec: { connector: 'sim' }, warmup_bars: 7 });
    expect(f.events).toEqual([`prime ${JOB}`, `unprime ${JOB}`, 'clear']);
    expect(f.canceled).toEqual([]);
  });

  it('fails the run when a batch failed on every attempt, naming its trials and error, and cancels the rest', async () => {
    const f = fakes((batch, _id, w) => {
      if (batch.trials[0]!.trial === 4) return w.state('failed', 'controller exploded');
      if (batch.trials[0]!.trial < 4) for (const t of batch.trials) w.store(t.trial);
      w.state(batch.trials[0]!.trial < 4 ? 'completed' : 'active');
    });
    const err = await f.backend.open(f.input).run(runs(0, 10), new AbortController().signal, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toBe("A batch of this optimization's trials 4–4 failed on every attempt: controller exploded.");
    // The batches of trials 4..9 had not delivered: canceled.
    expect(f.canceled).toEqual(['b4', 'b5', 'b6', 'b7', 'b8', 'b9']);
  });

  it('a batch that ended without its trials fails the run too', async () => {
    const f = fakes((_batch, _id, w) => w.state('completed'));
    await expect(f.backend.open(f.input).run(runs(0, 1), new AbortController().signal, () => undefined)).rejects.toThrow(/trials 0–0 ended \(completed\) without its results/);
  });

  it('on abort it returns what arrived and cancels the unfinished batches', async () => {
    const f = fakes((batch, _id, w) => {
      if (batch.trials[0]!.trial < 3) w.store(batch.trials[0]!.trial);
      w.state(batch.trials[0]!.trial < 3 ? 'completed' : 'active');
    });
    const ac = new AbortController();
    const seen: number[] = [];
    await f.backend.open(f.input).run(runs(0, 6), ac.signal, (d) => {
      seen.push(d.trial);
      if (seen.length === 3) ac.abort();
    });
    expect(seen.sort()).toEqual([0, 1, 2]);
    expect(f.canceled).toEqual(['b3', 'b4', 'b5']);
  });

  it('on abort, the trials stored since its last read are still reported: a cancel keeps every trial that finished', async () => {
    // The workers store every trial; the cancel comes as the last is stored, while the coordinator sleeps between reads.
    const ac = new AbortController();
    const f = fakes((batch, _id, w) => {
      for (const t of batch.trials) w.store(t.trial);
      w.state('active');
      if (batch.trials.some((t) => t.trial === 5)) ac.abort();
    });
    const seen: number[] = [];
    await f.backend.open(f.input).run(runs(0, 6), ac.signal, (d) => seen.push(d.trial));
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
