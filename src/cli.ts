import { parseArgs } from 'node:util';
import { resetAdminPassword } from './core/auth/reset-admin-password.js';
import { CONFIG_VARS, ConfigError, loadConfig, type Config, type ConfigVar } from './core/config.js';
import { lockDataDir } from './core/data-dir-lock.js';
import { createLogger, type Logger } from './core/logger.js';
import { startServer } from './app/server.js';
import type { StartupFacts } from './app/services.js';
import { Username } from './tools/users/schemas.js';
import { VERSION } from './version.js';

const flagName = (v: string) => v.toLowerCase().replace(/_/g, '-');

const HELP = `tradedesk ${VERSION}: a self-hosted trading server for LLM agents (MCP) and scripts (REST).

Usage:
  tradedesk [serve] [flags]   REST API, docs and MCP over HTTP on one port (default)
  tradedesk mcp [flags]       MCP over stdio, for Claude Desktop and other MCP clients
  tradedesk worker [flags]    take optimization trials from the job queue on the Postgres at DATABASE_URL
                              and run them on every core of this machine, until SIGTERM; no port, no
                              exchange secrets (see docs/optimization.md, "Workers on other machines")
  tradedesk bot               run one bot: its launch spec (JSON) in TRADEDESK_BOT, its broker password in
                              TRADEDESK_BOT_PASSWORD; it opens no database and holds no exchange secret,
                              trading through the server over MQTT (the server starts it; see docs/bots.md)
  tradedesk reset-admin-password [--username admin] [flags]
                              give a stored admin a new generated password (creating it if absent),
                              print it once and keep it in DATA_DIR/admin-password.txt; run it while
                              no server uses the embedded DATA_DIR
  tradedesk --help | --version

Flags (each also read from the environment variable of the same name):
${Object.entries(CONFIG_VARS)
  .map(([k, v]) => `  --${flagName(k).padEnd(20)} ${k.padEnd(18)} ${v.describe}${'default' in v && v.default ? ` (default ${v.default})` : ''}`)
  .join('\n')}

Without DATABASE_URL the server is self-contained: an embedded Postgres in DATA_DIR (shared by
\`serve\` and \`mcp\`: whichever starts first starts it, the last to stop stops it), a generated admin
password printed on first start and kept in DATA_DIR/admin-password.txt (mode 0600) until that admin
first logs in, paper balances on the offline "sim" exchange. Everything but GET /health needs Basic
auth, the docs at /docs and /openapi.json included. MQTT_PORT and MQTT_URL choose the broker bots
use (embedded on 127.0.0.1, or an external Mosquitto).
`;

/** The generated password goes to stderr; stdout may be the MCP stdio channel. */
function announceAdmin(admin: StartupFacts['generatedAdmin'], url: string): void {
  if (!admin) return;
  process.stderr.write(
    `\n  First start: an admin user was created. The database keeps only a hash of this password.\n` +
      `    username: ${admin.username}\n    password: ${admin.password}\n` +
      `  It is also in ${admin.file} (readable by you only) until this admin first logs in.\n` +
      `  Lost it? Stop the server and run: tradedesk reset-admin-password\n` +
      `  Try: curl -u ${admin.username}:<password> ${url}/accounts\n\n`,
  );
}

async function serveCommand(config: Config, logger: Logger): Promise<void> {
  const t0 = performance.now();
  // Printed before the port is taken: a start that then fails (port in use) has still shown it.
  const server = await startServer(config, logger, { beforeListen: (f) => announceAdmin(f.generatedAdmin, configuredUrl(config)) });
  const { facts } = server;
  logger.info('listening', { url: server.url, docs: `${server.url}/docs`, mcp: `${server.url}/mcp`, database: server.services.database.kind, startup_ms: Math.round(performance.now() - t0) });
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
  // Loaded here, not at the top: `serve` never needs the stdio transport.
  const { runStdio } = await import('./app/stdio.js');
  await runStdio(config, logger, { onFacts: (f) => announceAdmin(f.generatedAdmin, configuredUrl(config)) });
}

const configuredUrl = (config: Config) => `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;

const WORKER_NEEDS_DATABASE =
  'tradedesk worker needs DATABASE_URL: the Postgres server that the tradedesk server uses, whose job queue holds the optimization batches. ' +
  'The embedded database answers on its own machine only, so without a Postgres server there is nothing for a worker to take.\n';

async function workerCommand(config: Config, logger: Logger): Promise<void> {
  // Loaded here: serve and mcp never need it.
  const { startWorker } = await import('./app/worker.js');
  const worker = await startWorker(config, logger);
  const stop = async (signal: string) => {
    logger.info('worker stopping; batches in hand go back to the queue', { signal });
    await worker.stop().catch((err) => logger.error('worker shutdown failed', { err }));
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

async function resetAdminPasswordCommand(config: Config, username: string): Promise<void> {
  const unlock = config.mode === 'embedded' ? lockDataDir(config.dataDir, 'reset-admin-password', { exclusive: true }) : () => undefined;
  try {
    const r = await resetAdminPassword(config, username);
    process.stderr.write(
      `\n  ${r.created ? 'Created the admin user' : 'A new password for the admin user'} "${r.username}". The database keeps only a hash of it.\n` +
        `    username: ${r.username}\n    password: ${r.password}\n` +
        `  It is also in ${r.file} (readable by you only) until this admin next logs in.\n\n`,
    );
  } finally {
    unlock();
  }
}

export async function main(argv: string[]): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, username: { type: 'string' } };
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
  if (!['serve', 'mcp', 'worker', 'bot', 'reset-admin-password'].includes(sub) || positionals.length > 1) {
    process.stderr.write(`unknown command "${positionals.join(' ')}"\n\n${HELP}`);
    return 2;
  }
  if (sub === 'bot') {
    // Everything it needs is in its environment; it reads no server config. Loaded here: only a bot needs it.
    const { runBot } = await import('./bot/main.js');
    return runBot(process.env);
  }
  if (values.username !== undefined && sub !== 'reset-admin-password') {
    process.stderr.write('--username belongs to reset-admin-password\n\nRun tradedesk --help for the flags.\n');
    return 2;
  }
  const username = Username.safeParse(values.username ?? 'admin');
  if (!username.success) {
    process.stderr.write(`tradedesk: --username: ${username.error.issues[0]?.message ?? 'invalid'}\n`);
    return 2;
  }
  const flags: Partial<Record<ConfigVar, string>> = {};
  for (const v of Object.keys(CONFIG_VARS) as ConfigVar[]) {
    const f = values[flagName(v)];
    if (f !== undefined) flags[v] = String(f);
  }
  if (sub === 'worker' && !(flags.DATABASE_URL ?? process.env.DATABASE_URL)) {
    process.stderr.write(`tradedesk: ${WORKER_NEEDS_DATABASE}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(process.env, flags, { credentials: sub !== 'worker' });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tradedesk: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // A last net, not a fix: each background loop catches its own failures. A rejection that escapes
  // anyway is a bug to log, not a reason to take every open order and connection down with the process.
  process.on('unhandledRejection', (reason) => logger.error('unhandled promise rejection', { err: reason }));
  try {
    if (sub === 'mcp') {
      await mcpCommand(config, logger);
      return 0;
    }
    if (sub === 'reset-admin-password') {
      await resetAdminPasswordCommand(config, username.data);
      return 0;
    }
    if (sub === 'worker') {
      await workerCommand(config, logger);
      return -1; // keep running
    }
    await serveCommand(config, logger);
    return -1; // keep running
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tradedesk: ${sub === 'reset-admin-password' ? 'cannot reset the admin password' : 'cannot start'}: ${msg}\n`);
    logger.debug('start failure', { err });
    return 1;
  }
}
