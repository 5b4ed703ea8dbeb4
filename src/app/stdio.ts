import { createRegistry } from '../core/command/index.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Principal } from '../core/principal.js';
import { serveStdio } from '../mcp/stdio.js';
import { allCommands } from '../tools/index.js';
import { VERSION } from '../version.js';
import { openApp } from './app.js';
import { resolveToolsets } from './server.js';
import type { StartupFacts } from './services.js';

/**
 * The MCP server over stdio (Claude Desktop): the same modules as `serve`, one client, until stdin
 * closes or a SIGINT/SIGTERM comes; either way the modules stop, so that the process leaves the data
 * directory (and, last out, stops the embedded database).
 */
export async function runStdio(config: Config, logger: Logger, hooks: { onFacts?: (facts: StartupFacts) => void } = {}): Promise<void> {
  const registry = createRegistry(allCommands);
  const toolsets = resolveToolsets(config.toolsets, registry);
  // The server process runs the bots (their broker, their processes); this one only reads them.
  const app = await openApp(config, logger, 'mcp stdio', { bots: { run: false } });
  let onSignal: (() => void) | undefined;
  const signalled = new Promise<void>((resolve) => {
    onSignal = () => {
      logger.info('shutting down', {});
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    hooks.onFacts?.(app.facts);
    // Stdio has no login: the process acts as the configured user, with its stored role and account
    // list, else as a trader on every account.
    const principal: Principal = (await app.services.users.principal(config.mcpPrincipal)) ?? { name: config.mcpPrincipal, role: 'trader' };
    await serveStdio({ registry, services: app.services, principal, surface: { channel: 'mcp', toolsets, readOnly: config.readOnly }, version: VERSION }, signalled);
  } finally {
    process.removeListener('SIGINT', onSignal!);
    process.removeListener('SIGTERM', onSignal!);
    await app.stop();
  }
}
