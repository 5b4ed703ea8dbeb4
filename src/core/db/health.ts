import type { Database } from './client.js';

export type DatabaseState = 'ok' | 'unreachable';

/**
 * The database's state for /health. The check is a bounded `select 1`, and its answer is reused for
 * `ttlMs`, with at most one check in flight: however often /health is called, the database sees at most
 * one trivial query per `ttlMs`.
 */
export class DatabaseHealth {
  #last: { at: number; state: DatabaseState } | undefined;
  #inFlight: Promise<DatabaseState> | undefined;

  constructor(
    private readonly database: Pick<Database, 'ping'>,
    private readonly ttlMs = 1500,
    private readonly timeoutMs = 2000,
    /** Elapsed time, not the date: the answer's age is a transport matter, whatever clock the services read. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  state(): Promise<DatabaseState> {
    if (this.#last && this.now() - this.#last.at < this.ttlMs) return Promise.resolve(this.#last.state);
    this.#inFlight ??= this.database
      .ping(this.timeoutMs)
      .catch(() => false)
      .then((ok) => {
        const state: DatabaseState = ok ? 'ok' : 'unreachable';
        this.#last = { at: this.now(), state };
        this.#inFlight = undefined;
        return state;
      });
    return this.#inFlight;
  }
}
