import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import type { Config } from '../../src/core/config.js';

/**
 * What tests, the fuzz script and other harnesses start a server with: a private data dir, an admin
 * from the environment, a random vault key, silent logs. No vitest import, so scripts can use it too.
 */
export function testConfig(base: { dataDir: string; databaseUrl?: string; admin: { username: string; password: string }; vaultKey?: string }, overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    dataDir: base.dataDir,
    databaseUrl: base.databaseUrl,
    embeddedDatabase: 'postgres',
    mqttPort: 0,
    mqttBroker: 'mosquitto',
    botImage: 'tradedesk:local',
    apiUsername: base.admin.username,
    apiPassword: base.admin.password,
    vaultKey: base.vaultKey ?? randomBytes(32).toString('hex'),
    logLevel: 'silent',
    toolsets: 'default',
    readOnly: false,
    mcpAllowedHosts: [],
    mcpAllowedOrigins: [],
    simSeed: 'sim',
    mcpPrincipal: 'agent',
    portfolioSnapshotMinutes: 5,
    executorIntervalMs: 1000,
    strategiesDir: join(base.dataDir, 'strategies'),
    mode: base.databaseUrl ? 'server' : 'embedded',
    optimizationQueue: base.databaseUrl ? 'postgres' : 'local',
    optimizationBatchTimeoutSeconds: 600,
    ...overrides,
  };
}

/** A database of its own on the Postgres server at `serverUrl`, so no two runs see each other's rows. */
export async function privateDatabase(serverUrl: string, prefix = 'td'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
