import { AppError } from '../errors.js';
import { VERSION } from '../../version.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { TrialBatch, TrialQueue } from './trial-queue.js';
import type { TrialStore } from './trial-store.js';
import type { TrialDone, TrialRun } from './trials-task.js';
import type { TrialSession, TrialsBackend, TrialSessionInput } from './optimization-job.js';
import type { TrialWorker } from './trial-worker.js';

/** Batches a phase is cut into at most: enough that many workers share it, few enough that a batch carries several trials. */
const TARGET_BATCHES = 64;
const MAX_BATCH = 25;

export interface QueuedTrialsDeps {
  queue: Pick<TrialQueue, 'send' | 'cancel' | 'states'>;
  store: Pick<TrialStore, 'newSince' | 'clear'>;
  /** This process's own worker: it takes batches too (a lone server finishes alone) and reads the candles the job loaded. */
  local: Pick<TrialWorker, 'prime' | 'unprime'>;
  simSeed: string;
  clock: Clock;
  logger: Logger;
  /** How often the coordinator reads the trials stored so far. */
  pollMs?: number;
  /** How often it asks the queue how the unfinished batches stand. */
  statesEveryMs?: number;
}

export function batchSize(trials: number): number {
  return Math.min(MAX_BATCH, Math.max(1, Math.ceil(trials / TARGET_BATCHES)));
}

/**
 * Optimization trials through the Postgres job queue: each phase's trials go out as batches that any
 * worker sharing the database takes (this server's own among them), every worker writes each trial's
 * metrics to optimization_trials, and the coordinator reads them from there as they arrive, once each.
 * A batch whose worker died is handed out again by the queue when its time runs out; a batch the queue
 * gave up on (failed on every attempt) fails the optimization. A cancel cancels the unfinished batches,
 * which stops the workers running them.
 */
export function queuedTrials(deps: QueuedTrialsDeps): TrialsBackend {
  const pollMs = deps.pollMs ?? 250;
  const statesEveryMs = deps.statesEveryMs ?? 1000;
  return {
    open(input: TrialSessionInput): TrialSession {
      const jobId = input.jobId;
      deps.local.prime(jobId, input.columns);
      const base: Omit<TrialBatch, 'trials'> = { job_id: jobId, code_version: VERSION, sim_seed: deps.simSeed, spec: input.spec, market: input.market, warmup_bars: input.warmupBars };
      // Every trial of the job read so far, across phases: the store is asked only for the others.
      const seen = new Set<number>();
      return {
        run: (runs, signal, onEach) => runPhase(deps, base, runs, seen, signal, onEach, pollMs, statesEveryMs),
        close: async () => {
          deps.local.unprime(jobId);
          await deps.store.clear(jobId).catch((err: unknown) => deps.logger.warn('could not clear the trials of an ended optimization', { job_id: jobId, err }));
        },
      };
    },
  };
}

async function runPhase(
  deps: QueuedTrialsDeps,
  base: Omit<TrialBatch, 'trials'>,
  runs: TrialRun[],
  seen: Set<number>,
  signal: AbortSignal,
  onEach: (d: TrialDone) => void,
  pollMs: number,
  statesEveryMs: number,
): Promise<void> {
  if (runs.length === 0 || signal.aborted) return;
  const size = batchSize(runs.length);
  const chunks: TrialRun[][] = [];
  for (let i = 0; i < runs.length; i += size) chunks.push(runs.slice(i, i + size));
  const ids = await deps.queue.send(chunks.map((trials) => ({ ...base, trials })));
  deps.logger.info('optimization trials sent to the queue', { job_id: base.job_id, trials: runs.length, batches: ids.length });
  const left = new Set(runs.map((r) => r.trial));
  const unfinished = () => ids.filter((_, i) => chunks[i]!.some((t) => left.has(t.trial)));
  let failed = false;
  try {
    let statesAt = -Infinity;
    while (left.size > 0 && !signal.aborted) {
      // The states are read before the trials: a batch seen ended has its trials visible to the read after.
      let states: Awaited<ReturnType<QueuedTrialsDeps['queue']['states']>> | undefined;
      if (deps.clock.now() - statesAt >= statesEveryMs) {
        statesAt = deps.clock.now();
        states = await deps.queue.states(unfinished());
      }
      for (const d of await deps.store.newSince(base.job_id, seen)) {
        seen.add(d.trial);
        if (left.delete(d.trial)) onEach(d);
      }
      if (states) checkEnded(ids, chunks, left, states);
      if (left.size > 0) await sleep(pollMs, signal);
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    if (failed || signal.aborted) {
      await deps.queue.cancel(unfinished()).catch((err: unknown) => deps.logger.warn('could not cancel the batches of an optimization', { job_id: base.job_id, err }));
    }
  }
  if (signal.aborted && left.size > 0) {
    // Trials stored since the last read finished before the batches stopped: they are ranked with the rest.
    try {
      for (const d of await deps.store.newSince(base.job_id, seen)) {
        seen.add(d.trial);
        if (left.delete(d.trial)) onEach(d);
      }
    } catch (err) {
      deps.logger.warn('could not read the last trials of a stopped optimization', { job_id: base.job_id, err });
    }
  }
}

/** A batch that ended (failed for good, canceled, or completed) with trials still missing fails the phase. */
function checkEnded(ids: string[], chunks: TrialRun[][], left: Set<number>, states: Map<string, { state: string; message: string | null }>): void {
  ids.forEach((id, i) => {
    const s = states.get(id);
    const trials = chunks[i]!;
    if (!s || !['failed', 'cancelled', 'completed'].includes(s.state) || !trials.some((t) => left.has(t.trial))) return;
    const range = `trials ${trials[0]!.trial}–${trials[trials.length - 1]!.trial}`;
    throw new AppError('INTERNAL', s.state === 'failed' ? `A batch of this optimization's ${range} failed on every attempt: ${s.message ?? 'no reason given'}.` : `A batch of this optimization's ${range} ended (${s.state}) without its results.`, {
      hint: 'The server and worker logs name the batch; run the optimization again once the cause is fixed.',
      details: { batch: id, state: s.state },
    });
  });
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
