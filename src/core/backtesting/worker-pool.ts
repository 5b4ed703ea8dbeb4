import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';

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
}

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
    } finally {
      port1.close();
    }
  }

  async stop(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.destroy();
  }

  async #ensure(): Promise<Piscina> {
    if (this.#pool) return this.#pool;
    const { Piscina } = await import('piscina');
    this.#pool ??= new Piscina({ filename: WORKER_FILE.href, minThreads: 0, maxThreads: this.#opts.maxThreads, idleTimeout: this.#opts.idleTimeoutMs });
    return this.#pool;
  }
}
