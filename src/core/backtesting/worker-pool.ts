import { totalmem } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { AppError } from '../errors.js';
import { landedError } from './task-errors.js';

/**
 * Runs CPU-heavy strategy work (backtests, optimization trials) off the event loop, in worker threads
 * from a piscina pool: the server keeps answering while a year of candles is simulated, and a second
 * run reuses a warm worker instead of paying a thread start and the strategy modules' load again.
 * The pool is made on first use and its idle threads exit after a while, so a server that never
 * backtests holds no worker.
 */
export interface PoolTask<T> {
  /** Module (file URL) whose named export `name` runs the task inside the worker. */
  name: string;
  input: T;
  /** ArrayBuffers moved, not copied, to the worker (candle columns). */
  transfer?: ArrayBuffer[];
}

export interface PoolRunOptions {
  signal?: AbortSignal;
  /** Messages the task posts while it runs (progress). */
  onMessage?: (message: unknown) => void;
}

export interface StrategyPoolOptions {
  maxThreads: number;
  /** Idle threads exit after this long. */
  idleTimeoutMs: number;
  /** The heap one worker may grow to, MB; by default a share of the machine's memory, 1 to 4 GB. */
  maxHeapMb?: number;
}

/** Half the machine's memory shared among the workers, each given 1 GB at least and 4 GB at most (so many workers on a small machine may together exceed that half). */
export const defaultWorkerHeapMb = (threads: number) => Math.round(Math.min(4096, Math.max(1024, totalmem() / 2 / Math.max(1, threads) / 2 ** 20)));

// From the TypeScript sources the worker needs the tsx loader, which pool-worker.dev.mjs registers first.
const WORKER_FILE = new URL(import.meta.url.endsWith('.ts') ? './pool-worker.dev.mjs' : './pool-worker.js', import.meta.url);

export class StrategyPool {
  #pool: Piscina | undefined;
  #opts: StrategyPoolOptions;

  constructor(opts: StrategyPoolOptions) {
    this.#opts = opts;
  }

  /** Threads the pool runs at most: how many tasks a job keeps in flight to use every one. */
  get threads(): number {
    return this.#opts.maxThreads;
  }

  async run<T, R>(task: PoolTask<T>, opts: PoolRunOptions = {}): Promise<R> {
    const pool = await this.#ensure();
    const { port1, port2 } = new MessageChannel();
    if (opts.onMessage) port1.on('message', opts.onMessage);
    try {
      return (await pool.run({ input: task.input, port: port2 }, { name: task.name, transferList: [port2, ...(task.transfer ?? [])], signal: opts.signal ?? null })) as R;
    } catch (err) {
      // The worker hit its heap limit and was ended: the task was too big, the server is fine.
      if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new AppError('PAYLOAD_TOO_LARGE', `The run needed more memory than a worker may use (${this.#heapMb} MB) and was stopped.`, {
          hint: 'Shorten the range, use a longer resolution, or make the controller open fewer executors.',
          cause: err,
        });
      }
      throw landedError(err);
    } finally {
      port1.close();
    }
  }

  get #heapMb(): number {
    return this.#opts.maxHeapMb ?? defaultWorkerHeapMb(this.#opts.maxThreads);
  }

  async stop(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.destroy();
  }

  async #ensure(): Promise<Piscina> {
    if (this.#pool) return this.#pool;
    const { Piscina } = await import('piscina');
    this.#pool ??= new Piscina({
      filename: WORKER_FILE.href,
      minThreads: 0,
      maxThreads: this.#opts.maxThreads,
      idleTimeout: this.#opts.idleTimeoutMs,
      resourceLimits: { maxOldGenerationSizeMb: this.#heapMb },
    });
    return this.#pool;
  }
}
