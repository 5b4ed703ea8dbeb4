import type { Lifecycle } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';

/** How long one module may take to stop before shutdown goes on without it. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * The modules of one process, in wiring order. One list serves both directions: `start` runs them in
 * order (and stops the ones already started if one fails), `stop` runs them in reverse. A module's
 * failed or slow stop is logged and never keeps the others from stopping.
 */
export class Modules {
  readonly #list: Array<{ name: string; module: Lifecycle }> = [];
  #started = 0;
  #stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  add<M extends Lifecycle>(name: string, module: M): M {
    this.#list.push({ name, module });
    return module;
  }

  async start(): Promise<void> {
    for (const { name, module } of this.#list.slice(this.#started)) {
      try {
        await module.start?.();
      } catch (err) {
        await this.stop();
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), { module: name });
      }
      this.#started++;
    }
  }

  /** Stops every started module, last first; later calls wait for the first. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    // A module whose start failed may hold part of what it opened: it is stopped too.
    const upTo = Math.min(this.#started + 1, this.#list.length);
    for (const { name, module } of this.#list.slice(0, upTo).reverse()) {
      if (!module.stop) continue;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve(module.stop()),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`did not stop within ${STOP_TIMEOUT_MS} ms`)), STOP_TIMEOUT_MS);
          }),
        ]);
      } catch (err) {
        this.logger.error('a module failed to stop', { module: name, err });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
