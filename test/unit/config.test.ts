import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/core/config.js';

/** The ConfigError thrown by loadConfig, or a failure when it does not throw. */
function configError(env: NodeJS.ProcessEnv, flags: Parameters<typeof loadConfig>[1] = {}): ConfigError {
  try {
    loadConfig(env, flags);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)} ${JSON.stringify(flags)}`);
}

describe('loadConfig', () => {
  it('has working defaults for an embedded start', () => {
    const c = loadConfig({});
    expect(c).toEqual({
      port: 8000,
      host: '127.0.0.1',
      dataDir: resolve('./data'),
      databaseUrl: undefined,
      embeddedDatabase: 'postgres',
      mqttUrl: undefined,
      mqttPort: 1883,
      mqttBroker: 'mosquitto',
      emqx: undefined,
      botMqttUrl: undefined,
      botImage: 'tradedesk:local',
      botStateHostDir: undefined,
      apiUsername: undefined,
      apiPassword: undefined,
      vaultKey: undefined,
      logLevel: 'info',
      toolsets: 'default',
      readOnly: false,
      mcpAllowedHosts: [],
      mcpAllowedOrigins: [],
      simSeed: 'sim',
      mcpPrincipal: 'agent',
      portfolioSnapshotMinutes: 5,
      executorIntervalMs: 1000,
      strategiesDir: resolve('./data/strategies'),
      optimizationQueue: 'local',
      optimizationBatchTimeoutSeconds: 600,
      mode: 'embedded',
    });
  });

  it('puts the strategies folder in DATA_DIR unless STRATEGIES_DIR names one', () => {
    expect(loadConfig({ DATA_DIR: '/tmp/td-x' }).strategiesDir).toBe('/tmp/td-x/strategies');
    expect(loadConfig({ DATA_DIR: '/tmp/td-x', STRATEGIES_DIR: '/srv/strategies' }).strategiesDir).toBe('/srv/strategies');
  });

  it('reads the environment and treats an empty value as unset', () => {
    const c = loadConfig({ PORT: '9000', HOST: '0.0.0.0', DATA_DIR: '/tmp/td-x', LOG_LEVEL: 'debug', TOOLSETS: 'accounts', MQTT_PORT: '' });
    expect(c.port).toBe(9000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.dataDir).toBe('/tmp/td-x');
    expect(c.logLevel).toBe('debug');
    expect(c.toolsets).toBe('accounts');
    expect(c.mqttPort).toBe(1883);
  });

  it('lets flags override the environment', () => {
    const c = loadConfig({ PORT: '9000', LOG_LEVEL: 'debug', READ_ONLY: 'false' }, { PORT: '9100', LOG_LEVEL: 'error', READ_ONLY: 'true' });
    expect(c.port).toBe(9100);
    expect(c.logLevel).toBe('error');
    expect(c.readOnly).toBe(true);
  });

  it('resolves DATA_DIR to an absolute path', () => {
    expect(loadConfig({ DATA_DIR: 'rel/dir' }).dataDir).toBe(resolve('rel/dir'));
  });

  it.each(['abc', '0', '70000', '80.5', '-1'])('refuses PORT=%s with a message naming PORT', (value) => {
    const err = configError({ PORT: value });
    expect(err.message).toMatch(/^invalid configuration:/);
    expect(err.message).toMatch(/\bPORT\b/);
    expect(err.message).toContain(`(got "${value}")`);
    expect(err.message).not.toMatch(/MQTT_PORT/);
  });

  it('names the flag value too when the bad PORT comes from a flag', () => {
    const err = configError({ PORT: '8000' }, { PORT: 'nope' });
    expect(err.message).toContain('PORT');
    expect(err.message).toContain('(got "nope")');
  });

  it('refuses a bad MQTT_PORT naming MQTT_PORT', () => {
    expect(configError({ MQTT_PORT: '99999' }).message).toMatch(/MQTT_PORT/);
  });

  it.each(['debug', 'info', 'warn', 'error', 'silent'] as const)('accepts LOG_LEVEL=%s', (level) => {
    expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it.each(['verbose', 'trace', 'INFO'])('refuses LOG_LEVEL=%s, listing the valid levels', (level) => {
    const err = configError({ LOG_LEVEL: level });
    expect(err.message).toMatch(/LOG_LEVEL/);
    expect(err.message).toContain('debug, info, warn, error, silent');
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
    ['', false],
  ] as const)('parses READ_ONLY=%j as %s', (value, expected) => {
    expect(loadConfig({ READ_ONLY: value }).readOnly).toBe(expected);
  });

  it.each(['maybe', '2', 'on'])('refuses READ_ONLY=%s naming READ_ONLY', (value) => {
    expect(configError({ READ_ONLY: value }).message).toMatch(/READ_ONLY/);
  });

  it('reads EXECUTOR_INTERVAL_MS and refuses one below 100 ms naming it', () => {
    expect(loadConfig({ EXECUTOR_INTERVAL_MS: '250' }).executorIntervalMs).toBe(250);
    expect(() => loadConfig({ EXECUTOR_INTERVAL_MS: '10' })).toThrow(/EXECUTOR_INTERVAL_MS must be at least 100/);
  });

  it('splits MCP_ALLOWED_HOSTS on commas and drops blanks', () => {
    expect(loadConfig({ MCP_ALLOWED_HOSTS: 'a.example, b.example ,,' }).mcpAllowedHosts).toEqual(['a.example', 'b.example']);
  });

  it('runs the embedded Postgres unless EMBEDDED_DATABASE=pglite, and refuses another value', () => {
    expect(loadConfig({ EMBEDDED_DATABASE: 'pglite' }).embeddedDatabase).toBe('pglite');
    expect(() => loadConfig({ EMBEDDED_DATABASE: 'sqlite' })).toThrow(/EMBEDDED_DATABASE must be postgres or pglite/);
  });

  it('is server mode with DATABASE_URL and credentials', () => {
    const c = loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/x', API_USERNAME: 'ops', API_PASSWORD: 'long-enough-pw' });
    expect(c.mode).toBe('server');
    expect(c.databaseUrl).toBe('postgresql://u:p@db:5432/x');
    expect(c.apiUsername).toBe('ops');
  });

  it('refuses server mode without API credentials, naming API_USERNAME', () => {
    const err = configError({ DATABASE_URL: 'postgres://x@127.0.0.1/db' });
    expect(err.message).toMatch(/API_USERNAME/);
    expect(err.message).toMatch(/API_PASSWORD/);
  });

  it('runs optimization trials through the Postgres queue in server mode and on the local pool embedded, unless OPTIMIZATION_QUEUE says otherwise', () => {
    const server = { DATABASE_URL: 'postgres://u:p@db/x', API_USERNAME: 'admin', API_PASSWORD: 'long-enough' };
    expect(loadConfig(server).optimizationQueue).toBe('postgres');
    expect(loadConfig({}).optimizationQueue).toBe('local');
    expect(loadConfig({ ...server, OPTIMIZATION_QUEUE: 'local' }).optimizationQueue).toBe('local');
    expect(loadConfig({ OPTIMIZATION_QUEUE: 'postgres' }).optimizationQueue).toBe('postgres');
    expect(() => loadConfig({ OPTIMIZATION_QUEUE: 'redis' })).toThrow(/OPTIMIZATION_QUEUE must be auto, local or postgres/);
    expect(() => loadConfig({ OPTIMIZATION_QUEUE: 'postgres', EMBEDDED_DATABASE: 'pglite' })).toThrow(/OPTIMIZATION_QUEUE: the optimization queue needs Postgres/);
    expect(loadConfig({ OPTIMIZATION_BATCH_TIMEOUT_SECONDS: '120' }).optimizationBatchTimeoutSeconds).toBe(120);
    expect(() => loadConfig({ OPTIMIZATION_BATCH_TIMEOUT_SECONDS: '5' })).toThrow(/OPTIMIZATION_BATCH_TIMEOUT_SECONDS must be at least 10/);
  });

  it('a process that serves no API (the worker) needs no API credentials in server mode', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:p@db/x' })).toThrow(/API_USERNAME/);
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db/x' }, {}, { credentials: false }).mode).toBe('server');
  });

  it('refuses a non-postgres DATABASE_URL', () => {
    expect(configError({ DATABASE_URL: 'mysql://x@h/db', API_USERNAME: 'a', API_PASSWORD: 'bbbbbbbb' }).message).toMatch(/DATABASE_URL/);
  });

  it('refuses a bad MQTT_URL', () => {
    expect(configError({ MQTT_URL: 'http://broker' }).message).toMatch(/MQTT_URL/);
  });

  it('needs API_USERNAME and API_PASSWORD together', () => {
    expect(configError({ API_USERNAME: 'ops' }).message).toMatch(/API_PASSWORD/);
    expect(configError({ API_PASSWORD: 'long-enough-pw' }).message).toMatch(/API_USERNAME/);
  });

  it('refuses a short API_PASSWORD without echoing it', () => {
    const err = configError({ API_USERNAME: 'ops', API_PASSWORD: 'sh0rt' });
    expect(err.message).toMatch(/API_PASSWORD/);
    expect(err.message).not.toContain('sh0rt');
  });

  it('refuses a username with a colon (it cannot be sent in Basic auth)', () => {
    expect(configError({ API_USERNAME: 'a:b', API_PASSWORD: 'long-enough-pw' }).message).toMatch(/API_USERNAME/);
  });

  it('reports every bad variable at once', () => {
    const err = configError({ PORT: 'x', LOG_LEVEL: 'loud' });
    expect(err.message).toMatch(/PORT/);
    expect(err.message).toMatch(/LOG_LEVEL/);
  });
  describe('a server in a container with EMQX (docker-compose.yml)', () => {
    const emqx = { MQTT_BROKER: 'emqx', MQTT_URL: 'mqtt://tradedesk:pw-123456@emqx:1883', EMQX_API_URL: 'http://emqx:18083' };

    it('reads the EMQX API, the bots\' broker URL, image and host state path', () => {
      const c = loadConfig({ ...emqx, EMQX_API_KEY: 'tradedesk', EMQX_API_SECRET: 's3cret', BOT_MQTT_URL: 'mqtt://127.0.0.1:1883', BOT_IMAGE: 'tradedesk:latest', BOT_STATE_HOST_DIR: '/var/lib/docker/volumes/tradedesk-data/_data/bots' });
      expect(c.mqttBroker).toBe('emqx');
      expect(c.emqx).toEqual({ apiUrl: 'http://emqx:18083', apiKey: 'tradedesk', apiSecret: 's3cret', apiKeyFile: undefined });
      expect(c.botMqttUrl).toBe('mqtt://127.0.0.1:1883');
      expect(c.botImage).toBe('tradedesk:latest');
      expect(c.botStateHostDir).toBe('/var/lib/docker/volumes/tradedesk-data/_data/bots');
      expect(loadConfig({ ...emqx, EMQX_API_KEY_FILE: '/run/emqx-api-key' }).emqx?.apiKeyFile).toBe('/run/emqx-api-key');
    });

    it('names what MQTT_BROKER=emqx lacks', () => {
      expect(configError({ MQTT_BROKER: 'emqx' }).message).toMatch(/MQTT_URL[\s\S]*EMQX_API_URL[\s\S]*EMQX_API_KEY/);
      expect(configError({ ...emqx, EMQX_API_KEY: 'k' }).message).toMatch(/EMQX_API_SECRET/);
      expect(configError({ MQTT_BROKER: 'rabbit' }).message).toMatch(/MQTT_BROKER must be mosquitto or emqx/);
      expect(configError({ EMQX_API_URL: 'http://emqx:18083' }).message).toMatch(/MQTT_BROKER=emqx only/);
    });

    it('refuses a bots\' broker URL with credentials and a relative host path, echoing no URL', () => {
      const withLogin = configError({ BOT_MQTT_URL: 'mqtt://bot:leaked-pw@127.0.0.1:1883' });
      expect(withLogin.message).toMatch(/BOT_MQTT_URL must carry no credentials/);
      expect(withLogin.message).not.toContain('leaked-pw');
      expect(configError({ BOT_STATE_HOST_DIR: 'data/bots' }).message).toMatch(/BOT_STATE_HOST_DIR must be an absolute path/);
      expect(configError({ BOT_IMAGE: 'bad image' }).message).toMatch(/BOT_IMAGE/);
    });
  });
});
