import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBotBroker } from '../../src/core/bots/bot-broker.js';
import { EmbeddedBroker, SERVER_USERNAME } from '../../src/core/bots/broker.js';
import { brokerCredentials } from '../../src/core/bots/credentials.js';
import { MosquittoDynsec } from '../../src/core/bots/mosquitto-dynsec.js';
import { PgBotCredentials } from '../../src/core/bots/pg-credentials.js';
import { openDatabase, type Database } from '../../src/core/db/client.js';
import { AppError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { Vault } from '../../src/core/secrets/vault.js';
import { botAccessSuite, connectBot, type BrokerUnderTest } from '../helpers/bot-broker-acl.js';
import { privateDatabase } from '../helpers/config.js';
import { mosquittoInstall, startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';

const install = mosquittoInstall();
const REQUIRED = process.env.REQUIRE_SERVICES === '1';
if (!install) {
  if (REQUIRED) throw new Error('REQUIRE_SERVICES=1 but mosquitto, mosquitto_ctrl or its dynamic-security plugin is missing: run scripts/services.sh');
  console.warn('skipping the Mosquitto dynamic-security tests: Debian\'s mosquitto package is not installed');
}

describe.skipIf(!install)('an external Mosquitto provisioned through its dynamic-security plugin', () => {
  let database: Database;
  let dropDb: () => Promise<void>;
  let mosquitto: RunningMosquitto;
  let dynsec: MosquittoDynsec;
  let under: BrokerUnderTest;
  const silent = createLogger('silent');

  beforeAll(async () => {
    const db = await privateDatabase(process.env.DATABASE_URL!);
    dropDb = db.drop;
    database = await openDatabase({ url: db.url });
    mosquitto = await startMosquitto(install!);
    const { username, password } = mosquitto.admin;
    dynsec = new MosquittoDynsec({ url: `mqtt://${username}:${password}@127.0.0.1:${mosquitto.port}`, logger: silent });
    await dynsec.start();
    const store = new PgBotCredentials(database.db, new Vault(randomBytes(32)));
    under = { url: `mqtt://127.0.0.1:${mosquitto.port}`, server: mosquitto.admin, credentials: brokerCredentials(store, dynsec) };
  });
  afterAll(async () => {
    await dynsec?.stop();
    await mosquitto?.stop();
    await database?.close();
    await dropDb?.();
  });

  botAccessSuite(() => under);

  it('is the broker the settings choose with MQTT_URL, and starts again on a broker it has already set up', async () => {
    const chosen = createBotBroker({ mqttUrl: `mqtt://${mosquitto.admin.username}:${encodeURIComponent(mosquitto.admin.password)}@127.0.0.1:${mosquitto.port}`, mqttPort: 1883, db: database.db, vault: new Vault(randomBytes(32)), logger: silent });
    await chosen.start();
    try {
      expect(chosen.kind).toBe('mosquitto');
      expect(chosen.url()).toBe(`mqtt://127.0.0.1:${mosquitto.port}`);
      expect(chosen.serverLogin()).toEqual(mosquitto.admin);
      const login = await chosen.credentials.issue('chosen-one');
      const bot = await connectBot(chosen.url(), 'chosen-one', login);
      await bot.endAsync(true);
    } finally {
      await chosen.stop();
    }
  });

  it('refuses to start with a wrong admin password or no user in MQTT_URL', async () => {
    for (const url of [`mqtt://admin:wrong@127.0.0.1:${mosquitto.port}`, `mqtt://127.0.0.1:${mosquitto.port}`]) {
      const err = await new MosquittoDynsec({ url, logger: silent }).start().then(() => null, (e: unknown) => e);
      expect(err, url).toBeInstanceOf(AppError);
      expect((err as AppError).code, url).toBe('PRECONDITION_FAILED');
      expect((err as AppError).hint).toMatch(/dynamic_security/);
      expect((err as AppError).message).not.toContain('wrong');
    }
  });
});

describe('a broker without the dynamic-security plugin', () => {
  it('fails the start with a clear error when nothing answers on the dynsec topic', async () => {
    // The embedded broker accepts the login and the publish, and nothing answers: a broker without the plugin.
    const broker = new EmbeddedBroker({ port: 0, credentials: { verify: async () => null }, logger: createLogger('silent') });
    await broker.start();
    try {
      const { password } = broker.serverLogin();
      const t0 = performance.now();
      const err = await new MosquittoDynsec({ url: `mqtt://${SERVER_USERNAME}:${password}@127.0.0.1:${broker.port}`, logger: createLogger('silent'), timeoutMs: 300 })
        .start()
        .then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('TIMEOUT');
      expect((err as AppError).message).toMatch(/did not answer on \$CONTROL\/dynamic-security\/v1\/response within 300 ms/);
      expect((err as AppError).hint).toMatch(/plugin_opt_config_file/);
      expect((err as AppError).hint).toMatch(/hbot\/<id>\/#/);
      expect(performance.now() - t0).toBeLessThan(5_000);
    } finally {
      await broker.stop();
    }
  });

  it('fails with UPSTREAM_UNAVAILABLE when no broker listens', async () => {
    const err = await new MosquittoDynsec({ url: 'mqtt://admin:pw@127.0.0.1:1', logger: createLogger('silent'), timeoutMs: 1_000 }).start().then(() => null, (e: unknown) => e);
    expect((err as AppError).code).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('fails with UPSTREAM_UNAVAILABLE, not a hang, when something takes the connection and never answers it or hangs up', async () => {
    for (const behaviour of ['silent', 'hangs up'] as const) {
      const sockets: Socket[] = [];
      const server = createServer((s) => (behaviour === 'silent' ? sockets.push(s) : s.destroy()));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const port = (server.address() as { port: number }).port;
        const err = await new MosquittoDynsec({ url: `mqtt://admin:pw@127.0.0.1:${port}`, logger: createLogger('silent'), timeoutMs: 300 }).start().then(() => null, (e: unknown) => e);
        expect((err as AppError).code, behaviour).toBe('UPSTREAM_UNAVAILABLE');
        expect((err as AppError).message).toMatch(/could not be reached/);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      }
    }
  });
});
