import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBotBroker } from '../../src/core/bots/bot-broker.js';
import { EmqxAccess, emqxBotRules } from '../../src/core/bots/emqx-access.js';
import { botMayPublish, botMaySubscribe, botUsername } from '../../src/core/bots/topics.js';
import { openDatabase, type Database } from '../../src/core/db/client.js';
import { AppError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { Vault } from '../../src/core/secrets/vault.js';
import { privateDatabase } from '../helpers/config.js';
import { emqxDecide, startFakeEmqx, type FakeEmqx } from '../helpers/fake-emqx.js';

const KEY = 'tradedesk';
const SECRET = randomBytes(18).toString('hex');
const BASIC = `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`;
const USERS = '/api/v5/authentication/password_based%3Abuilt_in_database/users';
const RULES = '/api/v5/authorization/sources/built_in_database/rules/users';
const silent = createLogger('silent');
const server = { username: 'tradedesk', password: randomBytes(18).toString('base64url') };

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('EMQX provisioned through its REST API', () => {
  let emqx: FakeEmqx;
  beforeEach(async () => {
    emqx = await startFakeEmqx(KEY, SECRET);
  });
  afterEach(async () => {
    await emqx.close();
  });

  it('at start checks authorization refuses by default, then makes the server a superuser', async () => {
    await new EmqxAccess({ apiUrl: `${emqx.url}/`, apiKey: KEY, apiSecret: SECRET, server, logger: silent }).start();
    expect(emqx.requests).toEqual([
      { method: 'GET', path: '/api/v5/authorization/settings', authorization: BASIC, body: undefined },
      { method: 'GET', path: '/api/v5/authorization/sources', authorization: BASIC, body: undefined },
      { method: 'POST', path: USERS, authorization: BASIC, body: { user_id: 'tradedesk', password: server.password, is_superuser: true } },
    ]);
    expect(emqx.users.get('tradedesk')).toEqual({ password: server.password, is_superuser: true });
  });

  it('on a second start sets the server user\'s password again (it may have changed)', async () => {
    emqx.users.set('tradedesk', { password: 'old-password', is_superuser: false });
    await new EmqxAccess({ apiUrl: emqx.url, apiKey: KEY, apiSecret: SECRET, server, logger: silent }).start();
    expect(emqx.requests.slice(2)).toEqual([
      { method: 'POST', path: USERS, authorization: BASIC, body: { user_id: 'tradedesk', password: server.password, is_superuser: true } },
      { method: 'PUT', path: `${USERS}/tradedesk`, authorization: BASIC, body: { password: server.password, is_superuser: true } },
    ]);
    expect(emqx.users.get('tradedesk')).toEqual({ password: server.password, is_superuser: true });
  });

  it('reads the API key from a bootstrap-format file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'td-emqx-'));
    writeFileSync(join(dir, 'api-key'), `# bootstrap\n${KEY}:${SECRET}\n`);
    await new EmqxAccess({ apiUrl: emqx.url, apiKeyFile: join(dir, 'api-key'), server, logger: silent }).start();
    expect(emqx.requests.every((r) => r.authorization === BASIC)).toBe(true);
    writeFileSync(join(dir, 'bad'), 'no-colon-here\n');
    const err = await failure(new EmqxAccess({ apiUrl: emqx.url, apiKeyFile: join(dir, 'bad'), server, logger: silent }).start());
    expect(err.code).toBe('PRECONDITION_FAILED');
    expect(err.message).toContain('key:secret');
    const missing = await failure(new EmqxAccess({ apiUrl: emqx.url, apiKeyFile: join(dir, 'none'), server, logger: silent }).start());
    expect(missing.message).toContain('ENOENT');
  });

  it('grants a bot its own user and rules, and revoking deletes both and kicks its client', async () => {
    const access = new EmqxAccess({ apiUrl: emqx.url, apiKey: KEY, apiSecret: SECRET, server, logger: silent });
    await access.start();
    emqx.requests.length = 0;
    await access.grant('pmm-1', { username: 'bot-pmm-1', password: 'pw-1' });
    const rules = [
      { topic: 'hbot/pmm-1/+/#', permission: 'allow', action: 'all' },
      { topic: '#', permission: 'deny', action: 'all' },
    ];
    expect(emqx.requests).toEqual([
      { method: 'POST', path: USERS, authorization: BASIC, body: { user_id: 'bot-pmm-1', password: 'pw-1', is_superuser: false } },
      { method: 'PUT', path: `${RULES}/bot-pmm-1`, authorization: BASIC, body: { username: 'bot-pmm-1', rules } },
    ]);
    // A redeploy: the user exists, its password is set again; the rules are the same two.
    emqx.requests.length = 0;
    await access.grant('pmm-1', { username: 'bot-pmm-1', password: 'pw-2' });
    expect(emqx.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST ${USERS}`, `PUT ${USERS}/bot-pmm-1`, `PUT ${RULES}/bot-pmm-1`]);
    expect(emqx.users.get('bot-pmm-1')).toEqual({ password: 'pw-2', is_superuser: false });
    expect(emqx.rules.get('bot-pmm-1')).toEqual(rules);

    emqx.clients.add('hbot.pmm-1');
    emqx.requests.length = 0;
    await access.revoke('pmm-1', 'bot-pmm-1');
    expect(emqx.requests).toEqual([
      { method: 'DELETE', path: `${USERS}/bot-pmm-1`, authorization: BASIC, body: undefined },
      { method: 'DELETE', path: '/api/v5/clients/hbot.pmm-1', authorization: BASIC, body: undefined },
      { method: 'DELETE', path: `${RULES}/bot-pmm-1`, authorization: BASIC, body: undefined },
    ]);
    expect(emqx.users.has('bot-pmm-1')).toBe(false);
    expect(emqx.rules.has('bot-pmm-1')).toBe(false);
    expect(emqx.clients.has('hbot.pmm-1')).toBe(false);
    // Revoking what is already gone (404 everywhere) is no error.
    await access.revoke('pmm-1', 'bot-pmm-1');
  });

  it('gives a bot through EMQX\'s rule matching exactly the topics the embedded broker allows it', () => {
    const rules = emqxBotRules('a1');
    const topics = ['hbot/a1/hb', 'hbot/a1/reply/x', 'hbot/a1/rpc/place_order', 'hbot/a1', 'hbot/a2/hb', 'hbot/a10/hb', 'hbot', 'other/x', '$SYS/brokers'];
    const filters = [...topics, 'hbot/a1/#', 'hbot/a1/+', 'hbot/a1/+/x', 'hbot/#', 'hbot/+/hb', '#', '+/a1/hb', 'hbot/a2/#'];
    for (const t of topics) expect(emqxDecide(rules, 'publish', t) === 'allow', `publish ${t}`).toBe(botMayPublish('a1', t));
    for (const f of filters) expect(emqxDecide(rules, 'subscribe', f) === 'allow', `subscribe ${f}`).toBe(botMaySubscribe('a1', f));
    // Every other topic meets the deny rule rather than no rule: later sources and no_match never decide for a bot.
    for (const t of ['other/x', 'hbot/a2/hb']) expect(emqxDecide(rules, 'publish', t)).toBe('deny');
  });

  it('refuses to start where authorization would let a bot do what no rule allows', async () => {
    emqx.settings.no_match = 'allow';
    const open = await failure(new EmqxAccess({ apiUrl: emqx.url, apiKey: KEY, apiSecret: SECRET, server, logger: silent }).start());
    expect(open.code).toBe('PRECONDITION_FAILED');
    expect(open.message).toContain('no_match');
    expect(open.hint).toContain('EMQX_AUTHORIZATION__NO_MATCH=deny');

    emqx.settings.no_match = 'deny';
    emqx.sources = [{ type: 'client_info', enable: true }, { type: 'file', enable: true }, { type: 'built_in_database', enable: true }];
    const file = await failure(new EmqxAccess({ apiUrl: emqx.url, apiKey: KEY, apiSecret: SECRET, server, logger: silent }).start());
    expect(file.code).toBe('PRECONDITION_FAILED');
    expect(file.message).toContain('enabled sources: file, built_in_database');

    // A disabled file source and the client_info source before it are fine.
    emqx.sources = [{ type: 'client_info', enable: true }, { type: 'file', enable: false }, { type: 'built_in_database', enable: true }];
    await new EmqxAccess({ apiUrl: emqx.url, apiKey: KEY, apiSecret: SECRET, server, logger: silent }).start();
  });

  it('says what is wrong with a bad key, a missing authenticator or an unreachable API, without the secrets', async () => {
    const badKey = await failure(new EmqxAccess({ apiUrl: emqx.url, apiKey: KEY, apiSecret: 'wrong-secret', server, logger: silent }).start());
    expect(badKey.code).toBe('PRECONDITION_FAILED');
    expect(badKey.message).toContain('refused the API key (401 BAD_API_KEY_OR_SECRET)');
    expect(badKey.message + badKey.hint).not.toContain('wrong-secret');

    emqx.authenticator = false;
    const noAuthn = await failure(new EmqxAccess({ apiUrl: emqx.url, apiKey: KEY, apiSecret: SECRET, server, logger: silent }).start());
    expect(noAuthn.code).toBe('PRECONDITION_FAILED');
    expect(noAuthn.message).toContain('has no password_based:built_in_database authenticator');
    expect(noAuthn.message + noAuthn.hint).not.toContain(server.password);

    const down = await failure(new EmqxAccess({ apiUrl: 'http://127.0.0.1:9', apiKey: KEY, apiSecret: SECRET, server, logger: silent }).start());
    expect(down.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(down.hint).toContain('EMQX_API_URL');
  });
});

describe('MQTT_BROKER=emqx chooses EMQX for the bots\' logins', () => {
  let database: Database;
  let dropDb: () => Promise<void>;
  let emqx: FakeEmqx;
  beforeAll(async () => {
    const db = await privateDatabase(process.env.DATABASE_URL!);
    dropDb = db.drop;
    database = await openDatabase({ url: db.url });
    emqx = await startFakeEmqx(KEY, SECRET);
  });
  afterAll(async () => {
    await emqx?.close();
    await database?.close();
    await dropDb?.();
  });

  it('issues each bot a login kept in Postgres and mirrored into EMQX, and revokes it there', async () => {
    const chosen = createBotBroker({
      mqttUrl: `mqtt://tradedesk:${encodeURIComponent(server.password)}@emqx:1883`,
      mqttPort: 1883,
      kind: 'emqx',
      emqx: { apiUrl: emqx.url, apiKey: KEY, apiSecret: SECRET },
      db: database.db,
      vault: new Vault(randomBytes(32)),
      logger: silent,
    });
    await chosen.start();
    try {
      expect(chosen.kind).toBe('emqx');
      expect(chosen.url()).toBe('mqtt://emqx:1883');
      expect(chosen.serverLogin()).toEqual(server);
      const login = await chosen.credentials.issue('grid-7');
      expect(login.username).toBe(botUsername('grid-7'));
      expect(emqx.users.get('bot-grid-7')).toEqual({ password: login.password, is_superuser: false });
      expect(await chosen.credentials.verify(login.username, login.password)).toBe('grid-7');
      // A redeploy hands out the same login and EMQX holds that password.
      const again = await chosen.credentials.issue('grid-7');
      expect(again).toEqual(login);
      expect(emqx.users.get('bot-grid-7')?.password).toBe(login.password);
      await chosen.credentials.revoke('grid-7');
      expect(emqx.users.has('bot-grid-7')).toBe(false);
      expect(emqx.rules.has('bot-grid-7')).toBe(false);
      expect(await chosen.credentials.verify(login.username, login.password)).toBeNull();
    } finally {
      await chosen.stop();
    }
  });

  it('refuses an MQTT_URL without the server\'s login', () => {
    expect(() => createBotBroker({ mqttUrl: 'mqtt://emqx:1883', mqttPort: 1883, kind: 'emqx', emqx: { apiUrl: emqx.url, apiKey: KEY, apiSecret: SECRET }, db: database.db, vault: new Vault(randomBytes(32)), logger: silent })).toThrow(/names no user/);
  });
});
