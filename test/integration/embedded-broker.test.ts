import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBotBroker, type BotBroker } from '../../src/core/bots/bot-broker.js';
import { EmbeddedBroker } from '../../src/core/bots/broker.js';
import { brokerCredentials } from '../../src/core/bots/credentials.js';
import { PgBotCredentials } from '../../src/core/bots/pg-credentials.js';
import { verifyPassword } from '../../src/core/auth/passwords.js';
import { botCredentials } from '../../src/core/db/schema/index.js';
import { openDatabase, type Database } from '../../src/core/db/client.js';
import type { AppError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { Vault } from '../../src/core/secrets/vault.js';
import { botAccessSuite, connectBot, type BrokerUnderTest } from '../helpers/bot-broker-acl.js';
import { privateDatabase } from '../helpers/config.js';

describe('the embedded broker (aedes) with bot credentials in Postgres', () => {
  let database: Database;
  let dropDb: () => Promise<void>;
  let broker: EmbeddedBroker;
  let store: PgBotCredentials;
  let under: BrokerUnderTest;
  let chosen: BotBroker;

  beforeAll(async () => {
    const db = await privateDatabase(process.env.DATABASE_URL!);
    dropDb = db.drop;
    database = await openDatabase({ url: db.url });
    store = new PgBotCredentials(database.db, new Vault(randomBytes(32)));
    broker = new EmbeddedBroker({ port: 0, credentials: store, logger: createLogger('silent') });
    await broker.start();
    under = { url: broker.url, server: broker.serverLogin(), credentials: brokerCredentials(store, broker) };
    // What the orchestrator will be given: the same broker, chosen by the settings (no MQTT_URL).
    chosen = createBotBroker({ mqttPort: 0, db: database.db, vault: new Vault(randomBytes(32)), logger: createLogger('silent') });
    await chosen.start();
  });
  afterAll(async () => {
    await chosen?.stop();
    await broker?.stop();
    await database?.close();
    await dropDb?.();
  });

  botAccessSuite(() => under);

  it('listens on 127.0.0.1 only and makes a new server password at each start', async () => {
    expect(broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const other = new EmbeddedBroker({ port: 0, credentials: store, logger: createLogger('silent') });
    await other.start();
    try {
      expect(other.serverLogin().password).not.toBe(broker.serverLogin().password);
      expect(other.serverLogin().password.length).toBeGreaterThanOrEqual(32);
    } finally {
      await other.stop();
    }
  });

  it('refuses to start on a port in use with a hint naming MQTT_PORT and MQTT_URL', async () => {
    const taken = new EmbeddedBroker({ port: broker.port, credentials: store, logger: createLogger('silent') });
    const err = await taken.start().then(() => null, (e: unknown) => e);
    await taken.stop();
    expect(err).toMatchObject({ code: 'PRECONDITION_FAILED', message: `The MQTT port 127.0.0.1:${broker.port} is in use.` });
    expect((err as AppError).hint).toMatch(/MQTT_PORT.*MQTT_URL/);
  });

  it('stores only a hash and a sealed box of the password', async () => {
    const login = await under.credentials.issue('stored-check');
    const rows = await database.db.select().from(botCredentials).where(eq(botCredentials.botId, 'stored-check'));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.passwordHash).toMatch(/^scrypt\$/);
    expect(rows[0]!.passwordBox).toMatch(/^v1\./);
    expect(JSON.stringify(rows[0])).not.toContain(login.password);
  });

  it('refuses an invalid bot id', async () => {
    for (const bad of ['', 'Upper', 'a/b', 'a+b', 'a#', 'a.b', 'x'.repeat(64)]) {
      await expect(under.credentials.issue(bad), bad).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  it('gives the server an in-process link: a bot\'s reports reach it, its requests reach the bot, and an unsubscribe ends delivery', async () => {
    const link = broker.localLink();
    const got: Array<[string, string]> = [];
    const off = link.onMessage((topic, payload) => void got.push([topic, payload.toString('utf8')]));
    await link.subscribe('hbot/+/hb', 0);
    await link.subscribe('hbot/+/log', 1);
    const login = await under.credentials.issue('local-1');
    const bot = await connectBot(broker.url, 'local-1', login);
    try {
      const asked = new Promise<string>((resolve) => bot.on('message', (_t, p) => resolve(p.toString('utf8'))));
      await bot.subscribeAsync('hbot/local-1/status', { qos: 1 });
      await bot.publishAsync('hbot/local-1/hb', '{"ts":1}', { qos: 0 });
      await bot.publishAsync('hbot/local-1/log', '{"msg":"hi"}', { qos: 1 });
      await bot.publishAsync('hbot/local-1/events', '{"not":"subscribed"}', { qos: 1 });
      await link.publish('hbot/local-1/status', '{"header":{}}', 1);
      expect(await asked).toBe('{"header":{}}');
      await expect.poll(() => got.length).toBe(2);
      expect(got).toEqual([
        ['hbot/local-1/hb', '{"ts":1}'],
        ['hbot/local-1/log', '{"msg":"hi"}'],
      ]);
      await link.unsubscribe('hbot/+/hb');
      await bot.publishAsync('hbot/local-1/hb', '{"ts":2}', { qos: 0 });
      await bot.publishAsync('hbot/local-1/log', '{"msg":"after"}', { qos: 1 });
      await expect.poll(() => got.length).toBe(3);
      expect(got[2]).toEqual(['hbot/local-1/log', '{"msg":"after"}']);
    } finally {
      off();
      await link.unsubscribe('hbot/+/log');
      await bot.endAsync();
    }
  });

  it('a reconnect storm checks the password with scrypt once per bot, and a revoke still bites at once', async () => {
    const checked: string[] = [];
    const counting = new PgBotCredentials(database.db, new Vault(randomBytes(32)), async (pw, hash) => (checked.push(pw), verifyPassword(pw, hash)));
    const login = await counting.issue('storm');
    for (let i = 0; i < 20; i++) expect(await counting.verify(login.username, login.password)).toBe('storm');
    expect(checked).toHaveLength(1);
    // A wrong password is never taken for the remembered one: it goes to scrypt and fails, once.
    await expect(counting.verify(login.username, 'wrong')).resolves.toBeNull();
    await expect(counting.verify(login.username, 'wrong')).resolves.toBeNull();
    expect(checked).toHaveLength(2);
    await expect(counting.verify(login.username, 'wrong too')).resolves.toBeNull();
    await expect(counting.verify(login.username, login.password)).resolves.toBe('storm');
    expect(checked).toHaveLength(3);
    // Revoked by another process (another store on the same database): refused at once, no scrypt needed.
    await new PgBotCredentials(database.db, new Vault(randomBytes(32))).revoke('storm');
    await expect(counting.verify(login.username, login.password)).resolves.toBeNull();
    expect(checked).toHaveLength(3);
  });

  it('checks at most two passwords with scrypt at a time, so a storm of first logins leaves the thread pool to others', async () => {
    let running = 0;
    let most = 0;
    const slow = new PgBotCredentials(database.db, new Vault(randomBytes(32)), async (pw, hash) => {
      most = Math.max(most, ++running);
      try {
        return await verifyPassword(pw, hash);
      } finally {
        running--;
      }
    });
    const logins = await Promise.all(['s1', 's2', 's3', 's4', 's5', 's6'].map(async (b) => [b, await slow.issue(b)] as const));
    const who = await Promise.all(logins.map(([, l]) => slow.verify(l.username, l.password)));
    expect(who).toEqual(['s1', 's2', 's3', 's4', 's5', 's6']);
    expect(most).toBe(2);
  });

  it('a revoke during a slow password check wins: the check that started before it does not let the bot in', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const checking = new Promise<void>((r) => (started = r));
    const gated = new PgBotCredentials(database.db, new Vault(randomBytes(32)), async (pw, hash) => {
      started();
      await gate;
      return verifyPassword(pw, hash);
    });
    const login = await gated.issue('racer');
    const verdict = gated.verify(login.username, login.password);
    await checking;
    await gated.revoke('racer');
    release();
    await expect(verdict).resolves.toBeNull();
  });

  it('stops with bots connected, closing their connections', async () => {
    const own = new EmbeddedBroker({ port: 0, credentials: store, logger: createLogger('silent') });
    await own.start();
    const login = await store.issue('at-stop');
    const bot = await connectBot(own.url, 'at-stop', login);
    const closed = new Promise<void>((r) => bot.once('close', () => r()));
    await own.stop();
    await closed;
    await bot.endAsync(true);
  });

  it('is the broker the settings choose without MQTT_URL, on 127.0.0.1, with the same rules', async () => {
    expect(chosen.kind).toBe('embedded');
    expect(chosen.url()).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(chosen.serverLogin().username).toBe('tradedesk');
    const login = await chosen.credentials.issue('chosen-one');
    const ok = await connectBot(chosen.url(), 'chosen-one', login);
    await ok.endAsync(true);
    await chosen.credentials.revoke('chosen-one');
    await expect(connectBot(chosen.url(), 'chosen-one', login)).rejects.toMatchObject({ code: 4 });
  });
});
