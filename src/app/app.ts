import type { Config } from '../core/config.js';
import { lockDataDir } from '../core/data-dir-lock.js';
import type { Logger } from '../core/logger.js';
import { createServices, type ServiceOptions, type Services, type StartupFacts } from './services.js';

/** A running process's modules: what `serve` and `mcp` both start, and the one way to stop them. */
export interface App {
  services: Services;
  facts: StartupFacts;
  /** Stops every module (last started, first stopped) and lets go of the data directory. */
  stop(): Promise<void>;
}

/**
 * The start every entry point shares: this process registered in the embedded data directory (which
 * a REST server and a stdio MCP server may share; a server database is shared by design), the modules created and started with their background loops, and one
 * stop that undoes all of it in reverse.
 */
export async function openApp(config: Config, logger: Logger, purpose: string, options: ServiceOptions = {}): Promise<App> {
  // serve and mcp share an embedded Postgres; PGlite admits one process.
  const unlock = config.mode === 'embedded' ? lockDataDir(config.dataDir, purpose, { exclusive: config.embeddedDatabase === 'pglite' }) : () => undefined;
  try {
    const { services, facts } = await createServices(config, logger, { background: true, ...options });
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= services.close().finally(() => {
        unlock();
      }));
    return { services, facts, stop };
  } catch (err) {
    unlock();
    throw err;
  }
}
