import { createServer, type Server as HttpServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createRegistry, type Principal, type Registry, type Surface } from './core/command/index.js';
import { CONFIG_VARS, ConfigError, loadConfig, type Config, type ConfigVar } from './core/config.js';
import { lockDataDir } from './core/data-dir-lock.js';
import { createLogger, type Logger } from './core/logger.js';
import { createServices, type ServiceOptions, type Services, type StartupFacts } from './core/services.js';
import { mcpHttpHandler } from './mcp/http.js';
import { serveStdio } from './mcp/stdio.js';
import { createRestApp } from './rest/app.js';
import { attachMarketStream } from './rest/stream.js';
import { allCommands, DEFAULT_TOOLSETS } from './tools/index.js';
import { VERSION } from './version.js';

const flagName = (v: string) => v.toLowerCase().replace(/_/g, '-');

const HELP = `tradedesk ${VERSION}: a self-hosted trading server for LLM agents (MCP) and scripts (REST).

Usage:
  tradedesk [serve] [flags]   REST API, docs and MCP over HTTP on one port (default)
  tradedesk mcp [flags]       MCP over stdio, for Claude Desktop and other MCP clients
  tradedesk --help | --version

Flags (each also read from the environment variable of the same name):
${Object.entries(CONFIG_VARS)
  .map(([k, v]) => `  --${flagName(k).padEnd(20)} ${k.padEnd(18)} ${v.describe}${'default' in v && v.default ? ` (default ${v.default})` : ''}`)
  .join('\n')}

Without DATABASE_URL the server is self-contained: embedded PGlite in DATA_DIR, a generated admin
password printed once on first start, paper balances on the offline "sim" exchange.
`;

export interface RunningServer {
  http: HttpServer;
  facts: StartupFacts;
  url: string;
  services: Services;
  registry: Registry;
  close(): Promise<void>;
}

export function resolveToolsets(spec: string, registry: Registry): ReadonlySet<string> | 'all' {
  if (spec === 'all') return 'all';
  const names = spec === 'default' ? DEFAULT_TOOLSETS : spec.split(',').map((s) => s.trim()).filter(Boolean);
  const known = registry.toolsets();
  const unknown = names.filter((n) => n !== 'default' && !known.includes(n));
  if (unknown.length) throw new ConfigError(`invalid configuration:\n  TOOLSETS: unknown toolset ${unknown.join(', ')}; known: ${known.join(', ')}, or "all"`);
  return new Set(names.flatMap((n) => (n === 'default' ? DEFAULT_TOOLSETS : [n])));
}

/** Starts the HTTP server (REST, docs, /mcp). Used by `serve` and by the tests. */
export async function startServer(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<RunningServer> {
  const registry = createRegistry(allCommands);
  const toolsets = resolveToolsets(config.toolsets, registry);
  const unlock = config.mode === 'embedded' ? lockDataDir(config.dataDir, 'serve') : () => undefined;
  let services: Services;
  let facts;
  try {
    ({ services, facts } = await createServices(config, logger, options));
  } catch (err) {
    unlock();
    throw err;
  }
  services.trading.startMatcher();
  services.portfolio.startSnapshots(config.portfolioSnapshotMinutes * 60_000);
  const surface: Omit<Surface, 'channel'> = { toolsets, readOnly: config.readOnly };
  const app = createRestApp({
    registry,
    services,
    version: VERSION,
    mounts: [{ path: '/mcp', handler: mcpHttpHandler({ registry, services, version: VERSION, surface: { channel: 'mcp', ...surface }, allowedHosts: [config.host, ...config.mcpAllowedHosts] }) }],
  });
  const http = createServer(app);
  const stream = attachMarketStream(http, services);
  http.headersTimeout = 30_000;
  http.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    http,
    url: `http://${hostForUrl}:${port}`,
    services,
    registry,
    facts,
    close: async () => {
      stream.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      await services.close();
      unlock();
    },
  };
}

/** The generated password goes to stderr once; stdout may be the MCP stdio channel. */
function announceAdmin(admin: { username: string; password: string } | undefined, url: string): void {
  if (!admin) return;
  process.stderr.write(
    `\n  First start: an admin user was created. This password is shown once and stored only as a hash.\n` +
      `    username: ${admin.username}\n    password: ${admin.password}\n` +
      `  Try: curl -u ${admin.username}:<password> ${url}/accounts\n\n`,
  );
}

async function serveCommand(config: Config, logger: Logger): Promise<void> {
  const t0 = performance.now();
  const server = await startServer(config, logger);
  const { facts } = server;
  logger.info('listening', { url: server.url, docs: `${server.url}/docs`, mcp: `${server.url}/mcp`, database: server.services.database.kind, startup_ms: Math.round(performance.now() - t0) });
  announceAdmin(facts.generatedAdmin, server.url);
  if (facts.vaultKeySource === 'generated') logger.info('generated a vault key for exchange secrets', { file: `${config.dataDir}/vault.key` });
  if (facts.createdDefaultAccount) logger.info('created master_account with paper balances on sim');
  const stop = async (signal: string) => {
    logger.info('shutting down', { signal });
    await server.close().catch((err) => logger.error('shutdown failed', { err }));
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

async function mcpCommand(config: Config, logger: Logger): Promise<void> {
  const registry = createRegistry(allCommands);
  const toolsets = resolveToolsets(config.toolsets, registry);
  const unlock = config.mode === 'embedded' ? lockDataDir(config.dataDir, 'mcp stdio') : () => undefined;
  try {
    const { services, facts } = await createServices(config, logger);
    announceAdmin(facts.generatedAdmin, `http://${config.host}:${config.port}`);
    // Stdio has no login: the process acts as the configured user, with its stored role and account
    // list, else as a trader on every account.
    const principal: Principal = (await services.users.principal(config.mcpPrincipal)) ?? { name: config.mcpPrincipal, role: 'trader' };
    services.trading.startMatcher();
    services.portfolio.startSnapshots(config.portfolioSnapshotMinutes * 60_000);
    try {
      await serveStdio({ registry, services, principal, surface: { channel: 'mcp', toolsets, readOnly: config.readOnly }, version: VERSION });
    } finally {
      await services.close();
    }
  } finally {
    unlock();
  }
}

export async function main(argv: string[]): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } };
  for (const v of Object.keys(CONFIG_VARS)) options[flagName(v)] = { type: v === 'READ_ONLY' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\nRun tradedesk --help for the flags.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stderr.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stderr.write(`${VERSION}\n`);
    return 0;
  }
  const sub = positionals[0] ?? 'serve';
  if (!['serve', 'mcp'].includes(sub) || positionals.length > 1) {
    process.stderr.write(`unknown command "${positionals.join(' ')}"\n\n${HELP}`);
    return 2;
  }
  const flags: Partial<Record<ConfigVar, string>> = {};
  for (const v of Object.keys(CONFIG_VARS) as ConfigVar[]) {
    const f = values[flagName(v)];
    if (f !== undefined) flags[v] = String(f);
  }
  let config: Config;
  try {
    config = loadConfig(process.env, flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tradedesk: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  try {
    if (sub === 'mcp') {
      await mcpCommand(config, logger);
      return 0;
    }
    await serveCommand(config, logger);
    return -1; // keep running
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tradedesk: cannot start: ${msg}\n`);
    logger.debug('start failure', { err });
    return 1;
  }
}
