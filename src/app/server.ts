import { createServer, type Server as HttpServer } from 'node:http';
import { createRegistry, type Registry, type Surface } from '../core/command/index.js';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { createRestApp } from '../rest/app.js';
import { answerClientError } from '../rest/client-error.js';
import { onFirstUse } from '../rest/on-first-use.js';
import { BOT_STREAM_PATH, botStream } from '../rest/bot-stream.js';
import { marketStream, STREAM_PATH } from '../rest/stream.js';
import { attachWebSockets } from '../rest/ws-upgrade.js';
import { allCommands, DEFAULT_TOOLSETS } from '../tools/index.js';
import { VERSION } from '../version.js';
import { openApp } from './app.js';
import type { ServiceOptions, Services, StartupFacts } from './services.js';

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

/**
 * Limits on how long a client may take to send a request. Node's defaults (requestTimeout 300 s,
 * checked every 30 s) let a client that promises a longer body than it sends hold a connection for
 * five minutes; a trading API's requests are small JSON bodies.
 */
export interface HttpTimeouts {
  /** From connection (or the end of the previous request) to the end of the headers. */
  headersMs: number;
  /** From the start of a request to the end of its body. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
  /** How often the two limits above are checked; a request may overrun them by this much. */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000, checkIntervalMs: 1_000 };

export interface StartOptions extends ServiceOptions {
  timeouts?: Partial<HttpTimeouts>;
  /** Runs once the services are up and before the port is taken (prints the generated admin password). */
  beforeListen?: (facts: StartupFacts) => void;
}

/** Starts the HTTP server (REST, docs, /mcp). Used by `serve` and by the tests. */
export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  const registry = createRegistry(allCommands);
  const toolsets = resolveToolsets(config.toolsets, registry);
  const { services, facts, stop } = await openApp(config, logger, 'serve', options);
  const surface: Omit<Surface, 'channel'> = { toolsets, readOnly: config.readOnly };
  const app = createRestApp({
    registry,
    services,
    version: VERSION,
    mounts: [
      {
        path: '/mcp',
        handler: onFirstUse(async () => (await import('../mcp/http.js')).mcpHttpHandler({ registry, services, version: VERSION, surface: { channel: 'mcp', ...surface }, allowedHosts: [config.host, ...config.mcpAllowedHosts], allowedOrigins: config.mcpAllowedOrigins })),
      },
    ],
  });
  const t = { ...DEFAULT_HTTP_TIMEOUTS, ...options.timeouts };
  const http = createServer({ headersTimeout: t.headersMs, requestTimeout: t.requestMs, connectionsCheckingInterval: t.checkIntervalMs }, app);
  http.keepAliveTimeout = t.keepAliveMs;
  http.on('clientError', answerClientError);
  const stream = attachWebSockets(http, services, { [STREAM_PATH]: marketStream(services), [BOT_STREAM_PATH]: botStream(services) });
  options.beforeListen?.(facts);
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    stream.close();
    await stop();
    throw err;
  }
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
      await stop();
    },
  };
}

