import { randomBytes } from 'node:crypto';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { expect, it } from 'vitest';
import type { BotCredentials, BotLogin } from '../../src/core/bots/credentials.js';
import { waitFor } from './wait.js';

/** A broker under test, seen from outside: where it listens, the server's own login and how bots get theirs. */
export interface BrokerUnderTest {
  url: string;
  server: BotLogin;
  credentials: BotCredentials;
}

const connect = (url: string, opts: mqtt.IClientOptions) => mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, protocolVersion: 4, ...opts });

/** Connects as `bot` with its login and client id, or whatever `opts` override. */
export const connectBot = (url: string, botId: string, login: BotLogin, opts: mqtt.IClientOptions = {}) => connect(url, { clientId: `hbot.${botId}`, username: login.username, password: login.password, ...opts });

/** The CONNACK refusal of a connect attempt (its return code), or 'connected' when the broker let it in. */
async function refusal(attempt: Promise<MqttClient>): Promise<number | 'connected'> {
  try {
    const c = await attempt;
    await c.endAsync(true);
    return 'connected';
  } catch (err) {
    expect((err as { code?: number }).code, String(err)).toBeGreaterThan(0);
    return (err as { code: number }).code;
  }
}

/** The SUBACK codes of one subscription: [qos] when granted, [128] when refused. */
async function granted(client: MqttClient, filter: string): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filter, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const packet = (err as { packet?: { granted?: number[] } }).packet;
    if (!packet?.granted) throw err;
    return packet.granted;
  }
}

/**
 * The access rules every broker must enforce for bots, asserted against a real broker: `broker()` is
 * called inside the tests, after the suite's beforeAll has started it.
 */
export function botAccessSuite(broker: () => BrokerUnderTest) {
  const id = () => `t${randomBytes(4).toString('hex')}`;
  const clients: MqttClient[] = [];
  const track = (c: MqttClient) => (clients.push(c), c);
  /** The server identity, subscribed to every bot topic, recording what it receives. */
  async function serverListening() {
    const { url, server } = broker();
    const c = track(await connect(url, { clientId: `tradedesk-test-${randomBytes(4).toString('hex')}`, username: server.username, password: server.password }));
    const got: IPublishPacket[] = [];
    c.on('message', (_t, _p, packet) => got.push(packet));
    expect(await granted(c, 'hbot/#')).toEqual([1]);
    return { client: c, got };
  }
  const cleanup = async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  };

  it('a bot connects with its login and client id hbot.<id>; what it publishes under its prefix reaches the server with QoS 1', async () => {
    try {
      const b = id();
      const login = await broker().credentials.issue(b);
      expect(login.username).toBe(`bot-${b}`);
      expect(login.password.length).toBeGreaterThanOrEqual(24);
      const { got } = await serverListening();
      const bot = track(await connectBot(broker().url, b, login));
      const hb = JSON.stringify({ ts: 1_796_000_000_000_000 });
      const ack = await bot.publishAsync(`hbot/${b}/hb`, hb, { qos: 1 });
      expect(ack?.cmd).toBe('publish');
      const packet = await waitFor('the heartbeat at the server', () => got.find((p) => p.topic === `hbot/${b}/hb`));
      expect(packet.payload.toString()).toBe(hb);
      expect(packet.qos).toBe(1);
      // A redeploy hands the same login again.
      expect(await broker().credentials.issue(b)).toEqual(login);
    } finally {
      await cleanup();
    }
  });

  it("a bot may subscribe under its own prefix only: another bot's topics, hbot/#, hbot/+/hb and # are refused", async () => {
    try {
      const [a, b] = [id(), id()];
      const bot = track(await connectBot(broker().url, a, await broker().credentials.issue(a)));
      expect(await granted(bot, `hbot/${a}/#`)).toEqual([1]);
      expect(await granted(bot, `hbot/${a}/reply/+`)).toEqual([1]);
      for (const filter of [`hbot/${b}/#`, `hbot/${b}/start`, 'hbot/#', 'hbot/+/hb', '#', '+/+/start']) {
        expect(await granted(bot, filter), filter).toEqual([128]);
      }
      expect(bot.connected).toBe(true);
    } finally {
      await cleanup();
    }
  });

  it("a bot's publish outside its prefix reaches no one", async () => {
    try {
      const [a, b] = [id(), id()];
      const { got } = await serverListening();
      const bot = track(await connectBot(broker().url, a, await broker().credentials.issue(a)));
      const closed = new Promise<void>((r) => bot.once('close', () => r()));
      // Messages of one connection are handled in order: once the marker has arrived (or the broker has
      // closed the connection over the refused publish), the refused one would have arrived before it.
      bot.publish(`hbot/${b}/start`, '{"data":{}}', { qos: 0 });
      bot.publish('elsewhere/x', 'x', { qos: 0 });
      bot.publish(`hbot/${a}/log`, 'marker', { qos: 0 });
      await Promise.race([closed, waitFor('the marker', () => got.some((p) => p.topic === `hbot/${a}/log`))]);
      expect(got.filter((p) => p.topic !== `hbot/${a}/log`).map((p) => p.topic)).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it("a bot's will is published under its own prefix only", async () => {
    try {
      const [a, b] = [id(), id()];
      const login = await broker().credentials.issue(a);
      const { got } = await serverListening();
      const dropWith = async (topic: string) => {
        // Mosquitto may already refuse the CONNECT over a will it does not allow; aedes checks it when publishing it.
        const bot = await connectBot(broker().url, a, login, { will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false } }).catch(() => null);
        if (!bot) return;
        const closed = new Promise<void>((r) => bot.once('close', () => r()));
        bot.stream.destroy();
        await closed;
        await bot.endAsync(true);
      };
      await dropWith(`hbot/${b}/start`);
      await dropWith(`hbot/${a}/status_updates`);
      await waitFor('the allowed will', () => got.some((p) => p.topic === `hbot/${a}/status_updates`));
      expect(got.map((p) => p.topic)).toEqual([`hbot/${a}/status_updates`]);
    } finally {
      await cleanup();
    }
  });

  it('the server reaches a bot on its command topics', async () => {
    try {
      const b = id();
      const bot = track(await connectBot(broker().url, b, await broker().credentials.issue(b)));
      const got: IPublishPacket[] = [];
      bot.on('message', (_t, _p, packet) => got.push(packet));
      expect(await granted(bot, `hbot/${b}/#`)).toEqual([1]);
      const { client: server } = await serverListening();
      await server.publishAsync(`hbot/${b}/stop`, '{"data":{}}', { qos: 1 });
      const packet = await waitFor('the command at the bot', () => got.find((p) => p.topic === `hbot/${b}/stop`));
      expect(packet.qos).toBe(1);
    } finally {
      await cleanup();
    }
  });

  it('a wrong password, an unknown user, an anonymous client and a wrong client id are refused', async () => {
    const b = id();
    const login = await broker().credentials.issue(b);
    const { url } = broker();
    expect(await refusal(connectBot(url, b, { ...login, password: `${login.password}x` }))).not.toBe('connected');
    expect(await refusal(connectBot(url, b, { username: `bot-${id()}`, password: login.password }))).not.toBe('connected');
    expect(await refusal(connect(url, { clientId: `hbot.${b}` }))).not.toBe('connected');
    expect(await refusal(connect(url, { clientId: `hbot.${b}`, username: '', password: '' }))).not.toBe('connected');
    expect(await refusal(connectBot(url, b, login, { clientId: `hbot.${id()}` }))).not.toBe('connected');
    expect(await refusal(connectBot(url, b, login, { clientId: 'anything' }))).not.toBe('connected');
    // The right login and client id still get in: the refusals above were about what they changed.
    expect(await refusal(connectBot(url, b, login))).toBe('connected');
  });

  it('a revoked bot is dropped and refused on its next connect', async () => {
    try {
      const b = id();
      const login = await broker().credentials.issue(b);
      const bot = track(await connectBot(broker().url, b, login));
      const closed = new Promise<void>((r) => bot.once('close', () => r()));
      await broker().credentials.revoke(b);
      await closed;
      expect(await refusal(connectBot(broker().url, b, login))).not.toBe('connected');
      expect(await broker().credentials.verify(login.username, login.password)).toBeNull();
      // Issued again, the bot has a new password; the old one stays refused.
      const again = await broker().credentials.issue(b);
      expect(again.password).not.toBe(login.password);
      expect(await refusal(connectBot(broker().url, b, login))).not.toBe('connected');
      expect(await refusal(connectBot(broker().url, b, again))).toBe('connected');
    } finally {
      await cleanup();
    }
  });
}
