import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { normalizeOrigin } from './auth/origin-policy.js';
import { LOG_LEVELS } from './logger.js';

/**
 * Every setting, read once at boot from flags (first) and the environment. A bad value stops the start
 * with a message naming the variable. Each variable has a flag of the same name in kebab case
 * (PORT → --port, DATABASE_URL → --database-url).
 */
export const CONFIG_VARS = {
  PORT: { describe: 'HTTP port for REST, docs and MCP over HTTP', default: '8000' },
  HOST: { describe: 'Interface to bind; keep 127.0.0.1 unless behind a proxy', default: '127.0.0.1' },
  DATA_DIR: { describe: 'Where the embedded database, vault key and generated admin password file live', default: './data' },
  DATABASE_URL: { describe: 'Postgres server URL; unset means an embedded Postgres in DATA_DIR/pg' },
  EMBEDDED_DATABASE: { describe: 'Without DATABASE_URL: postgres (a real Postgres run from bundled binaries) or pglite (the earlier driver, one process per DATA_DIR)', default: 'postgres' },
  MQTT_URL: { describe: 'External MQTT broker for bots instead of the embedded one: Mosquitto 2 with its dynamic-security plugin, its admin in the URL (mqtt://admin:password@host:1883), or EMQX 5 with MQTT_BROKER=emqx, the server\'s own login in the URL' },
  MQTT_PORT: { describe: 'Port of the embedded MQTT broker for bots on 127.0.0.1 (without MQTT_URL; per-bot logins, no anonymous access)', default: '1883' },
  MQTT_BROKER: { describe: 'What MQTT_URL is: mosquitto (provisioned through its dynamic-security plugin, MQTT_URL\'s user its admin) or emqx (EMQX 5, provisioned through its REST API at EMQX_API_URL; MQTT_URL\'s user is made the server\'s own superuser)', default: 'mosquitto' },
  EMQX_API_URL: { describe: 'With MQTT_BROKER=emqx: the EMQX REST API (http://emqx:18083)' },
  EMQX_API_KEY: { describe: 'With MQTT_BROKER=emqx: the EMQX API key (with EMQX_API_SECRET), or unset with EMQX_API_KEY_FILE' },
  EMQX_API_SECRET: { describe: 'With MQTT_BROKER=emqx: the EMQX API key\'s secret' },
  EMQX_API_KEY_FILE: { describe: 'With MQTT_BROKER=emqx: a file holding key:secret on its first line (EMQX\'s api_key.bootstrap_file format), instead of EMQX_API_KEY and EMQX_API_SECRET' },
  BOT_MQTT_URL: { describe: 'The broker URL docker bots are given when it differs from the server\'s own (bots use host networking: a server in a container reaching mqtt://emqx:1883 gives them mqtt://127.0.0.1:1883); unset means the server\'s' },
  BOT_IMAGE: { describe: 'The image docker bots run when their deploy names none', default: 'tradedesk:local' },
  BOT_STATE_HOST_DIR: { describe: 'The path on the Docker host of DATA_DIR/bots, when the server runs in a container (a bot\'s state directory is bind-mounted from a host path); unset means DATA_DIR/bots itself' },
  API_USERNAME: { describe: 'Basic-auth admin user (required with DATABASE_URL)' },
  API_PASSWORD: { describe: 'Basic-auth admin password (required with DATABASE_URL)' },
  VAULT_KEY: { describe: '32-byte key (64 hex chars or base64) sealing exchange secrets; unset means DATA_DIR/vault.key' },
  LOG_LEVEL: { describe: 'debug | info | warn | error | silent', default: 'info' },
  TOOLSETS: { describe: 'MCP toolsets to expose, comma-separated, or "all"', default: 'default' },
  READ_ONLY: { describe: 'true: MCP lists and runs read commands only', default: 'false' },
  MCP_ALLOWED_HOSTS: { describe: 'Extra Host names accepted by /mcp, comma-separated', default: '' },
  MCP_ALLOWED_ORIGINS: { describe: 'Browser origins allowed to call /mcp and open the market-data stream besides the server\'s own, comma-separated (e.g. http://localhost:5173; "null" admits sandboxed pages)', default: '' },
  MCP_PRINCIPAL: { describe: 'Who `mcp` over stdio acts as: a stored user (with its role) or else a trader of that name', default: 'agent' },
  PORTFOLIO_SNAPSHOT_MINUTES: { describe: 'Minutes between portfolio snapshots (history and performance)', default: '5' },
  EXECUTOR_INTERVAL_MS: { describe: 'Milliseconds between two cycles of the executors the server runs (tick, order updates)', default: '1000' },
  SIM_SEED: { describe: 'Seed of the built-in sim exchange: same seed, same price history', default: 'sim' },
  OPTIMIZATION_QUEUE: { describe: 'Where optimization trials run: auto (the Postgres job queue with DATABASE_URL, so `tradedesk worker` processes on other machines share the work; this process\'s pool without), local (always this process\'s pool) or postgres (the queue on the embedded Postgres too)', default: 'auto' },
  OPTIMIZATION_BATCH_TIMEOUT_SECONDS: { describe: 'With the queue: a batch of trials still unfinished this long after a worker took it goes to another worker (how long a dead worker\'s batch waits); keep it above the time a batch takes', default: '600' },
  STRATEGIES_DIR: { describe: 'Folder of the operator\'s own strategy modules (controllers/ and scripts/, .js or .mjs), loaded at start; unset means DATA_DIR/strategies' },
} as const;
export type ConfigVar = keyof typeof CONFIG_VARS;

const port = (name: string) => z.coerce.number({ error: `${name} must be a number` }).int().min(1, `${name} must be 1-65535`).max(65535, `${name} must be 1-65535`);
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));
const nonEmpty = z.string().trim().min(1);

/** `credentials: false` for a process that serves no API (`tradedesk worker`): server mode then needs no API_USERNAME. */
const configSchema = ({ credentials }: { credentials: boolean }) => z
  .object({
    PORT: port('PORT'),
    HOST: nonEmpty,
    DATA_DIR: nonEmpty,
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql://').optional(),
    EMBEDDED_DATABASE: z.enum(['postgres', 'pglite'], { error: 'EMBEDDED_DATABASE must be postgres or pglite' }),
    MQTT_URL: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, 'MQTT_URL must start with mqtt://, mqtts://, ws:// or wss://').optional(),
    MQTT_PORT: port('MQTT_PORT'),
    MQTT_BROKER: z.enum(['mosquitto', 'emqx'], { error: 'MQTT_BROKER must be mosquitto or emqx' }),
    EMQX_API_URL: z.string().regex(/^https?:\/\/[^/]/, 'EMQX_API_URL must be an http:// or https:// URL').optional(),
    EMQX_API_KEY: nonEmpty.optional(),
    EMQX_API_SECRET: nonEmpty.optional(),
    EMQX_API_KEY_FILE: nonEmpty.optional(),
    BOT_MQTT_URL: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, 'BOT_MQTT_URL must start with mqtt://, mqtts://, ws:// or wss://').refine((v) => !new URL(v).username, 'BOT_MQTT_URL must carry no credentials: each bot gets its own login').optional(),
    BOT_IMAGE: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._\/:@-]{0,254}$/, 'BOT_IMAGE must be an image reference such as tradedesk:local or registry.example.com/tradedesk:1.2'),
    BOT_STATE_HOST_DIR: z.string().refine((v) => isAbsolute(v), 'BOT_STATE_HOST_DIR must be an absolute path on the Docker host').optional(),
    API_USERNAME: z.string().min(1).max(64).regex(/^[^:]+$/, 'API_USERNAME must not contain ":"').optional(),
    API_PASSWORD: z.string().min(8, 'API_PASSWORD must have at least 8 characters').max(256).optional(),
    VAULT_KEY: z.string().optional(),
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` }),
    TOOLSETS: z.string(),
    READ_ONLY: bool,
    MCP_ALLOWED_HOSTS: z.string(),
    MCP_ALLOWED_ORIGINS: z
      .string()
      .refine((v) => splitList(v).every((o) => o === 'null' || normalizeOrigin(o) !== undefined), 'MCP_ALLOWED_ORIGINS must be origins such as https://app.example.com or http://localhost:5173, or null'),
    SIM_SEED: z.string().min(1).max(64),
    EXECUTOR_INTERVAL_MS: z.coerce.number({ error: 'EXECUTOR_INTERVAL_MS must be a number' }).int('EXECUTOR_INTERVAL_MS must be whole milliseconds').min(100, 'EXECUTOR_INTERVAL_MS must be at least 100').max(60_000, 'EXECUTOR_INTERVAL_MS must be at most 60000'),
    STRATEGIES_DIR: nonEmpty.optional(),
    OPTIMIZATION_QUEUE: z.enum(['auto', 'local', 'postgres'], { error: 'OPTIMIZATION_QUEUE must be auto, local or postgres' }),
    OPTIMIZATION_BATCH_TIMEOUT_SECONDS: z.coerce
      .number({ error: 'OPTIMIZATION_BATCH_TIMEOUT_SECONDS must be a number' })
      .int('OPTIMIZATION_BATCH_TIMEOUT_SECONDS must be whole seconds')
      .min(10, 'OPTIMIZATION_BATCH_TIMEOUT_SECONDS must be at least 10')
      .max(43_200, 'OPTIMIZATION_BATCH_TIMEOUT_SECONDS must be at most 43200 (12 hours)'),
    MCP_PRINCIPAL: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.@-]+$/, 'MCP_PRINCIPAL must be a user name (letters, digits, _ . @ -)'),
    PORTFOLIO_SNAPSHOT_MINUTES: z.coerce.number({ error: 'PORTFOLIO_SNAPSHOT_MINUTES must be a number' }).min(0.1, 'PORTFOLIO_SNAPSHOT_MINUTES must be at least 0.1').max(1440, 'PORTFOLIO_SNAPSHOT_MINUTES must be at most 1440'),
  })
  .superRefine((c, ctx) => {
    if (credentials && c.DATABASE_URL && (!c.API_USERNAME || !c.API_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: ['API_USERNAME'],
        message: 'server mode (DATABASE_URL set) needs API_USERNAME and API_PASSWORD; there is no default password',
      });
    }
    if (c.OPTIMIZATION_QUEUE === 'postgres' && !c.DATABASE_URL && c.EMBEDDED_DATABASE === 'pglite') {
      ctx.addIssue({ code: 'custom', path: ['OPTIMIZATION_QUEUE'], message: 'the optimization queue needs Postgres; PGlite (EMBEDDED_DATABASE=pglite) runs trials on this process\'s pool only' });
    }
    if (c.MQTT_BROKER === 'emqx') {
      if (!c.MQTT_URL) ctx.addIssue({ code: 'custom', path: ['MQTT_URL'], message: 'MQTT_BROKER=emqx needs MQTT_URL: the EMQX listener, with the login the server makes its own (mqtt://tradedesk:password@emqx:1883)' });
      if (!c.EMQX_API_URL) ctx.addIssue({ code: 'custom', path: ['EMQX_API_URL'], message: 'MQTT_BROKER=emqx needs EMQX_API_URL (http://emqx:18083) to provision each bot\'s login' });
      if (!c.EMQX_API_KEY_FILE && (!c.EMQX_API_KEY || !c.EMQX_API_SECRET)) {
        ctx.addIssue({ code: 'custom', path: [c.EMQX_API_KEY ? 'EMQX_API_SECRET' : 'EMQX_API_KEY'], message: 'MQTT_BROKER=emqx needs EMQX_API_KEY and EMQX_API_SECRET, or EMQX_API_KEY_FILE' });
      }
    } else if (c.EMQX_API_URL || c.EMQX_API_KEY || c.EMQX_API_KEY_FILE) {
      ctx.addIssue({ code: 'custom', path: ['MQTT_BROKER'], message: 'EMQX_API_* settings are used with MQTT_BROKER=emqx only' });
    }
    if (!!c.API_USERNAME !== !!c.API_PASSWORD) {
      ctx.addIssue({ code: 'custom', path: [c.API_USERNAME ? 'API_PASSWORD' : 'API_USERNAME'], message: 'set API_USERNAME and API_PASSWORD together' });
    }
  });

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** Which embedded database runs when there is no DATABASE_URL. */
  embeddedDatabase: 'postgres' | 'pglite';
  mqttUrl?: string;
  mqttPort: number;
  /** What the external broker at mqttUrl is, and so how bots' logins are provisioned in it. */
  mqttBroker: 'mosquitto' | 'emqx';
  /** With mqttBroker emqx: its REST API and key. */
  emqx?: { apiUrl: string; apiKey?: string; apiSecret?: string; apiKeyFile?: string };
  /** The broker URL docker bots get, when it differs from the server's own. */
  botMqttUrl?: string;
  /** The image docker bots run when their deploy names none. */
  botImage: string;
  /** The Docker host's path of DATA_DIR/bots, when it differs (the server in a container). */
  botStateHostDir?: string;
  apiUsername?: string;
  apiPassword?: string;
  vaultKey?: string;
  logLevel: (typeof LOG_LEVELS)[number];
  toolsets: string;
  readOnly: boolean;
  mcpAllowedHosts: string[];
  /** Normalised origins (scheme://host[:port]), or "null", that /mcp and the stream accept besides the server's own. */
  mcpAllowedOrigins: string[];
  simSeed: string;
  mcpPrincipal: string;
  portfolioSnapshotMinutes: number;
  /** Milliseconds between two cycles of the executors service. */
  executorIntervalMs: number;
  /** The operator's strategy modules: `controllers/` and `scripts/` under it. */
  strategiesDir: string;
  /** Where optimization trials run: this process's pool, or the Postgres job queue shared with `tradedesk worker` processes. */
  optimizationQueue: 'local' | 'postgres';
  /** With the queue: seconds after which an unfinished batch goes to another worker. */
  optimizationBatchTimeoutSeconds: number;
  /** embedded: Postgres in DATA_DIR, generated credentials; server: Postgres at DATABASE_URL, credentials from the environment. */
  mode: 'embedded' | 'server';
}

export class ConfigError extends Error {}

/** Reads flags (`--port 9000` / `--port=9000`) over env over defaults. Throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv, flags: Partial<Record<ConfigVar, string>> = {}, opts: { credentials?: boolean } = {}): Config {
  const raw: Record<string, string | undefined> = {};
  for (const [name, spec] of Object.entries(CONFIG_VARS) as [ConfigVar, { default?: string }][]) {
    const v = flags[name] ?? env[name];
    raw[name] = v === undefined || v === '' ? spec.default : v;
  }
  const res = configSchema({ credentials: opts.credentials ?? true }).safeParse(raw);
  if (!res.success) {
    const lines = res.error.issues.map((i) => {
      const v = String(i.path[0] ?? '');
      return `  ${v}: ${i.message}${v && !/PASSWORD|KEY|SECRET|URL/.test(v) && raw[v] !== undefined ? ` (got "${raw[v]}")` : ''}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = res.data;
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir: resolve(c.DATA_DIR),
    databaseUrl: c.DATABASE_URL,
    embeddedDatabase: c.EMBEDDED_DATABASE,
    mqttUrl: c.MQTT_URL,
    mqttPort: c.MQTT_PORT,
    mqttBroker: c.MQTT_BROKER,
    emqx: c.MQTT_BROKER === 'emqx' ? { apiUrl: c.EMQX_API_URL!, apiKey: c.EMQX_API_KEY, apiSecret: c.EMQX_API_SECRET, apiKeyFile: c.EMQX_API_KEY_FILE } : undefined,
    botMqttUrl: c.BOT_MQTT_URL,
    botImage: c.BOT_IMAGE,
    botStateHostDir: c.BOT_STATE_HOST_DIR,
    apiUsername: c.API_USERNAME,
    apiPassword: c.API_PASSWORD,
    vaultKey: c.VAULT_KEY,
    logLevel: c.LOG_LEVEL,
    toolsets: c.TOOLSETS,
    readOnly: c.READ_ONLY,
    mcpAllowedHosts: splitList(c.MCP_ALLOWED_HOSTS),
    mcpAllowedOrigins: splitList(c.MCP_ALLOWED_ORIGINS).map((o) => (o === 'null' ? o : normalizeOrigin(o)!)),
    simSeed: c.SIM_SEED,
    mcpPrincipal: c.MCP_PRINCIPAL,
    portfolioSnapshotMinutes: c.PORTFOLIO_SNAPSHOT_MINUTES,
    executorIntervalMs: c.EXECUTOR_INTERVAL_MS,
    strategiesDir: resolve(c.STRATEGIES_DIR ?? join(c.DATA_DIR, 'strategies')),
    // auto: the queue where other machines can reach the database (a server's); the embedded Postgres listens on loopback only.
    optimizationQueue: c.OPTIMIZATION_QUEUE === 'auto' ? (c.DATABASE_URL ? 'postgres' : 'local') : c.OPTIMIZATION_QUEUE,
    optimizationBatchTimeoutSeconds: c.OPTIMIZATION_BATCH_TIMEOUT_SECONDS,
    mode: c.DATABASE_URL ? 'server' : 'embedded',
  };
}

const splitList = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
