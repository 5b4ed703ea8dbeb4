import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotAgent, type StrategyHost } from '../../src/bot/agent.js';
import { EmbeddedBroker } from '../../src/core/bots/broker.js';
import { RpcBus } from '../../src/core/bots/bus.js';
import { mqttLink } from '../../src/core/bots/link.js';
import { PgBotCredentials } from '../../src/core/bots/pg-credentials.js';
import { botClientId } from '../../src/core/bots/topics.js';
import { ManualClock } from '../../src/core/clock.js';
import { openDatabase, type Database } from '../../src/core/db/client.js';
import { AppError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { Vault } from '../../src/core/secrets/vault.js';
import { privateDatabase } from '../helpers/config.js';
import { recorded, wireShape } from '../fixtures/hummingbot-wire.js';

/**
 * Our bot's MQTT face on the embedded broker, logged in with its own credentials, driven by the
 * server's identity exactly as the orchestrator will drive it: reports on the Hummingbot topics, every
 * RPC answered in the envelope, refusals with a reason.
 */

const T = Date.UTC(2026, 11, 1, 12);
const BOT = `agent-${process.pid}`;

/** A strategy host whose behaviour the test can read: the agent's narrow interface, nothing more. */
class RecordingHost implements StrategyHost {
  isRunning = false;
  cfg: Record<string, unknown> = { bb_length: 100, interval: '1m' };
  stops: boolean[] = [];
  async start() {
    this.isRunning = true;
    return 'bollinger_v1 on sim BTC-USDT';
  }
  async stop(o: { skipOrderCancellation: boolean }) {
    this.isRunning = false;
    this.stops.push(o.skipOrderCancellation);
    return 'bollinger_v1 stopped, 0 executors active';
  }
  running() {
    return this.isRunning;
  }
  status() {
    return { controllers: ['c1'], active_executors: 0 };
  }
  config() {
    return this.cfg;
  }
  async setConfig(changes: ReadonlyArray<readonly [string, unknown]>) {
    for (const [k, v] of changes) {
      if (k === 'bb_length' && (typeof v !== 'number' || v < 2)) throw new AppError('VALIDATION_FAILED', 'Invalid input: bb_length: must be at least 2', { details: { issues: [{ path: 'bb_length', message: 'must be at least 2' }] } });
      this.cfg = { ...this.cfg, [k]: v };
    }
    return this.cfg;
  }
  history() {
    return [{ trade_id: 'f1', price: 100, amount: 0.1 }];
  }
  performance() {
    return { c1: { performance: { realized_pnl_quote: 1.5, volume_traded: 200 }, custom_info: {} } };
  }
}

describe('the bot agent on the embedded broker', () => {
  let database: Database;
  let dropDb: () => Promise<void>;
  let broker: EmbeddedBroker;
  let serverClient: MqttClient;
  let botClient: MqttClient;
  let server: RpcBus;
  let agent: BotAgent;
  const host = new RecordingHost();
  const seen: Array<{ topic: string; payload: any }> = [];
  const of = (suffix: string) => seen.filter((m) => m.topic === `hbot/${BOT}/${suffix}`).map((m) => m.payload);
  const ask = (cmd: string, data: Record<string, unknown> = {}) => server.request(`hbot/${BOT}/${cmd}`, data, { replyTo: RpcBus.replyTopic(`hbot/${BOT}/reply`), timeoutMs: 3000, who: `bot ${BOT}` });

  beforeAll(async () => {
    const db = await privateDatabase(process.env.DATABASE_URL!);
    dropDb = db.drop;
    database = await openDatabase({ url: db.url });
    const credentials = new PgBotCredentials(database.db, new Vault(randomBytes(32)));
    broker = new EmbeddedBroker({ port: 0, credentials, logger: createLogger('silent') });
    await broker.start();
    const login = await credentials.issue(BOT);
    const s = broker.serverLogin();
    serverClient = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, username: s.username, password: s.password });
    await serverClient.subscribeAsync(`hbot/${BOT}/#`, { qos: 1 });
    serverClient.on('message', (topic, p) => {
      if (!topic.includes('/reply/')) seen.push({ topic, payload: JSON.parse(p.toString()) });
    });
    server = new RpcBus(mqttLink(serverClient), { clock: new ManualClock(T), nodeId: 'server', replies: 'hbot/+/reply/+' });
    await server.start();
    botClient = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, clientId: botClientId(BOT), username: login.username, password: login.password });
    const link = mqttLink(botClient);
    agent = new BotAgent({ botId: BOT, link, bus: new RpcBus(link, { clock: new ManualClock(T), nodeId: BOT, replies: `hbot/${BOT}/inbox/+` }), clock: new ManualClock(T), host, heartbeatMs: 100, performanceMs: 100 });
    await agent.start();
  });
  afterAll(async () => {
    server?.stop();
    await Promise.all([serverClient?.endAsync(), botClient?.endAsync()]);
    await broker?.stop();
    await database?.close();
    await dropDb?.();
  });

  it('says it is online and beats every interval, ts in microseconds', async () => {
    await expect.poll(() => of('status_updates').length).toBeGreaterThan(0);
    expect(of('status_updates')[0]).toEqual({ timestamp: T, type: 'availability', msg: 'online' });
    await expect.poll(() => of('hb').length, { timeout: 2000 }).toBeGreaterThanOrEqual(3);
    expect(of('hb')[0]).toEqual({ ts: T * 1000 });
  });

  it('answers status, start, config, history and import in the envelope; refusals carry their reason', async () => {
    expect(await ask('status')).toEqual({ status: 200, msg: 'stopped', data: { controllers: ['c1'], active_executors: 0 } });
    expect(await ask('start', { script: 'v2_with_controllers.py' })).toMatchObject({ status: 400, msg: expect.stringContaining('takes no script') });
    expect(await ask('start', { async_backend: true })).toEqual({ status: 200, msg: 'bollinger_v1 on sim BTC-USDT' });
    expect(await ask('start')).toEqual({ status: 200, msg: 'The strategy is already running.' });
    await expect.poll(() => of('performance').length, { timeout: 2000 }).toBeGreaterThan(0);
    expect(of('performance')[0]).toEqual({ c1: { performance: { realized_pnl_quote: 1.5, volume_traded: 200 }, custom_info: {} } });
    await expect.poll(() => of('log').map((l) => [l.msg, l.level_no, l.level_name])).toContainEqual(['started: bollinger_v1 on sim BTC-USDT', 20, 'INFO']);
    expect(of('log')[0].timestamp).toBe(T / 1000);

    expect(await ask('config', { params: [] })).toEqual({ status: 200, msg: '', changes: [], config: { client: { instance_id: BOT }, strategy: { bb_length: 100, interval: '1m' } } });
    // The shape the original's Python client sends, which a Hummingbot bot drops without a word.
    expect(await ask('config', { params: {} })).toEqual({ status: 400, msg: 'params must be a list of [key, value] pairs (an empty list reads the config)' });
    expect(await ask('config', { params: [['bb_length', 1]] })).toMatchObject({ status: 400, msg: 'VALIDATION_FAILED: Invalid input: bb_length: must be at least 2' });
    expect(await ask('config', { params: [['bb_length', 50]] })).toMatchObject({ status: 200, changes: ['bb_length'], config: { strategy: { bb_length: 50 } } });
    expect(await ask('history', { days: 0, verbose: false, async_backend: true })).toEqual({ status: 200, msg: '', trades: [{ trade_id: 'f1', price: 100, amount: 0.1 }] });
    expect(await ask('history', { days: -1 })).toMatchObject({ status: 400, msg: expect.stringContaining('days') });
    expect(await ask('import', { strategy: 'other' })).toMatchObject({ status: 400 });
  });

  it("publishes heartbeats, availability, logs and performance in a real Hummingbot bot's shapes", async () => {
    await expect.poll(() => of('log').length).toBeGreaterThan(0);
    for (const topic of ['hb', 'status_updates', 'log'] as const) expect(wireShape(of(topic)[0]), topic).toEqual(wireShape(recorded(topic)));
    // Per controller: the same two keys, and the report's figures among the recorded bot's.
    const ours = of('performance')[0] as Record<string, Record<string, Record<string, unknown>>>;
    const theirs = recorded('performance') as Record<string, Record<string, Record<string, unknown>>>;
    const [oursOne, theirsOne] = [Object.values(ours)[0]!, Object.values(theirs)[0]!];
    expect(Object.keys(oursOne).sort()).toEqual(Object.keys(theirsOne).sort());
    for (const k of Object.keys(oursOne.performance!)) expect(Object.keys(theirsOne.performance!)).toContain(k);
  });

  it('stop ends the reports with an empty one per controller; shutdown says offline', async () => {
    expect(await ask('stop', { skip_order_cancellation: true })).toEqual({ status: 200, msg: 'bollinger_v1 stopped, 0 executors active' });
    expect(host.stops).toEqual([true]);
    await expect.poll(() => of('performance').at(-1)).toEqual({ c1: {} });
    const reports = of('performance').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(of('performance').length).toBe(reports);
    expect(await ask('stop')).toEqual({ status: 200, msg: 'The strategy is not running.' });
    await agent.shutdown();
    await expect.poll(() => of('status_updates').at(-1)).toEqual({ timestamp: T, type: 'availability', msg: 'offline' });
  });
});
