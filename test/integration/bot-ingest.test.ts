import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotStore } from '../../src/core/bots/bot-store.js';
import { EmbeddedBroker } from '../../src/core/bots/broker.js';
import { BotIngest, type Presence } from '../../src/core/bots/ingest.js';
import { mqttLink } from '../../src/core/bots/link.js';
import { PgBotCredentials } from '../../src/core/bots/pg-credentials.js';
import { botClientId } from '../../src/core/bots/topics.js';
import { systemClock } from '../../src/core/clock.js';
import { openDatabase, type Database } from '../../src/core/db/client.js';
import { createLogger } from '../../src/core/logger.js';
import { Vault } from '../../src/core/secrets/vault.js';
import { drivers, testEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Bots' reports from a real broker into Postgres: a bot logged in with its own credentials publishes
 * what a Hummingbot bot does, and the ingest stores it in batches, once per event and fill, dropping
 * what undeployed ids and malformed messages send.
 */
describe.each(drivers())('bot ingest (%s)', (driver) => {
  let env: TestEnv;
  let database: Database;
  let store: BotStore;
  let broker: EmbeddedBroker;
  let server: MqttClient;
  let ingest: BotIngest;
  const clients: MqttClient[] = [];
  const warnings: Array<{ msg: string; fields: Record<string, unknown> }> = [];
  const presence: Presence[] = [];
  /** The per-id lookups the ingest made (a bot in the deployed set needs none). */
  const lookups: string[] = [];

  const connectBot = async (id: string) => {
    const login = await broker_credentials.issue(id);
    const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, clientId: botClientId(id), username: login.username, password: login.password });
    clients.push(c);
    return (topic: string, payload: unknown) => c.publishAsync(`hbot/${id}/${topic}`, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
  };
  let broker_credentials: PgBotCredentials;

  beforeAll(async () => {
    env = await testEnv(driver);
    database = await openDatabase({ url: env.config.databaseUrl, dataDir: join(env.dataDir, 'pg') });
    store = new BotStore(database.db, systemClock);
    broker_credentials = new PgBotCredentials(database.db, new Vault(randomBytes(32)));
    broker = new EmbeddedBroker({ port: 0, credentials: broker_credentials, logger: createLogger('silent') });
    await broker.start();
    const login = broker.serverLogin();
    server = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, username: login.username, password: login.password });
    const logger = { ...createLogger('silent'), warn: (msg: string, fields: Record<string, unknown> = {}) => void warnings.push({ msg, fields }) };
    ingest = new BotIngest({
      link: mqttLink(server),
      store,
      clock: systemClock,
      logger,
      deployed: async (id) => {
        lookups.push(id);
        const row = await store.get(id);
        return !!row && !row.archivedAt;
      },
      allDeployed: () => store.deployedIds(),
      flushMs: 50,
    });
    ingest.onPresence((p) => presence.push(p));
    await ingest.start();
    for (const id of ['alpha', 'beta']) {
      await store.create({ id, name: id, accountName: 'desk', owner: { name: 'amy', role: 'trader', accounts: ['desk'], stored: false }, channel: 'rest', runtime: 'child', image: null, strategy: { script: { name: 'x', config: {} } }, desiredState: 'running' });
    }
  });
  afterAll(async () => {
    await ingest?.stop();
    await Promise.all([server, ...clients].map((c) => c?.endAsync()));
    await broker?.stop();
    await database?.close();
    await env?.cleanup();
  });

  it('stores heartbeats, availability, logs and performance, and tells who came online', async () => {
    const send = await connectBot('alpha');
    await store.recordObserved('alpha', { state: 'starting' });
    await send('status_updates', { timestamp: Date.now(), type: 'availability', msg: 'online' });
    await send('hb', { ts: Date.now() * 1000 });
    await send('log', { timestamp: Date.now() / 1000, msg: 'Traceback (most recent call last): boom', level_no: 40, level_name: 'ERROR', logger_name: 'hummingbot.strategy' });
    await send('log', { timestamp: Date.now() / 1000, msg: 'network hiccup', level_no: 16 });
    await send('performance', { 'pmm-1': { performance: { realized_pnl_quote: 1.5, volume_traded: '100.25', global_pnl_quote: 0.1 }, custom_info: {} } });
    await send('performance', { 'pmm-1': {} });
    const bot = await waitFor('the heartbeat to be stored', async () => {
      const b = await store.get('alpha');
      return b?.lastHeartbeatAt ? b : undefined;
    });
    expect(bot.observedState).toBe('running');
    expect(presence.filter((p) => p.botId === 'alpha').map((p) => p.kind)).toEqual(['online', 'heartbeat']);
    const logs = await waitFor('the logs', async () => {
      const l = await store.recentLogs('alpha', 10);
      return l.length >= 3 ? l : undefined;
    });
    expect(logs.map((l) => [l.level, l.message])).toEqual([
      ['INFO', 'availability: online'],
      ['ERROR', 'Traceback (most recent call last): boom'],
      ['LEVEL16', 'network hiccup'],
    ]);
    const perf = await waitFor('the performance snapshot', async () => {
      const p = await store.performanceHistory('alpha', { limit: 10 });
      return p.length ? p : undefined;
    });
    expect(perf).toHaveLength(1);
    expect(perf[0]).toMatchObject({ controllerId: 'pmm-1', volumeTraded: '100.250000000000000000', realizedPnlQuote: '1.500000000000000000' });
  });

  it('stores each event once by its id, or by a hash of the message when it has none, and a fill event as a fill too', async () => {
    const send = await connectBot('beta');
    const hbFill = { timestamp: 1767225600.5, type: 'OrderFilled', data: { timestamp: 1767225600.5, order_id: 'buy-BTC-1', trading_pair: 'BTC-USDT', trade_type: 'TradeType.BUY', order_type: 'OrderType.LIMIT', price: 65000.5, amount: 0.0015, trade_fee: { percent: 0, flat_fees: [{ token: 'USDT', amount: 0.0975 }] }, exchange_trade_id: 'T-77' } };
    await send('events', hbFill);
    await send('events', hbFill); // a redelivery: same bytes
    await send('events', { id: 'ev-1', timestamp: Date.now(), type: 'order_created', data: { client_order_id: 'c-1' } });
    await send('events', { id: 'ev-1', timestamp: Date.now(), type: 'order_created', data: { client_order_id: 'c-1' } });
    await send('events', { id: 'ev-2', timestamp: Date.now(), type: 'order_filled', data: { fill_id: 'f-2', client_order_id: 'c-1', trading_pair: 'ETH-USDT', side: 'sell', price: '3000.1', amount: '0.5', fee: '0.3', fee_asset: 'USDT' } });
    const events = await waitFor('three events', async () => {
      const e = await store.events('beta', { limit: 10 });
      return e.length >= 3 ? e : undefined;
    });
    await ingest.flush();
    expect((await store.events('beta', { limit: 10 })).map((e) => e.type).sort()).toEqual(['OrderFilled', 'order_created', 'order_filled']);
    expect(events.find((e) => e.type === 'OrderFilled')!.eventId).toMatch(/^[0-9a-f]{64}$/);
    const fills = (await store.fills('beta', { limit: 10 })).data;
    expect(fills.map((f) => [f.fillId, f.clientOrderId, f.tradingPair, f.side, f.price, f.fee, f.feeAsset]).sort()).toEqual([
      ['T-77', 'buy-BTC-1', 'BTC-USDT', 'buy', '65000.500000000000000000', '0.097500000000000000', 'USDT'],
      ['f-2', 'c-1', 'ETH-USDT', 'sell', '3000.100000000000000000', '0.300000000000000000', 'USDT'],
    ]);
    expect(fills.find((f) => f.fillId === 'T-77')!.at.toISOString()).toBe('2026-01-01T00:00:00.500Z');
  });

  it('drops what an undeployed id sends, and logs a malformed message once per bot without stopping', async () => {
    const stranger = await connectBot('stranger');
    await stranger('hb', { ts: 1 });
    await stranger('events', { id: 'x', timestamp: 1, type: 'order_created', data: {} });
    const send = await connectBot('alpha');
    const before = warnings.length;
    await send('hb', 'not json {');
    await send('log', { msg: 'no timestamp' });
    await send('log', { msg: 'no timestamp either' });
    await send('events', { timestamp: 1, type: 'order_filled', data: { fill_id: 'half' } });
    await send('log', { timestamp: Date.now() / 1000, msg: 'still listening', level_name: 'INFO' });
    await waitFor('the good line after the bad ones', async () => (await store.recentLogs('alpha', 1))[0]?.message === 'still listening');
    const mine = warnings.slice(before).filter((w) => w.fields.bot_id === 'alpha');
    expect(mine.map((w) => w.fields.topic).sort()).toEqual(['fill', 'hb', 'log']);
    expect(presence.some((p) => p.botId === 'stranger')).toBe(false);
    expect(await store.get('stranger')).toBeUndefined();
  });

  it('takes a deployed bot\'s reports by the set of deployed ids, asks for a bot deployed since, and drops an archived one at once', async () => {
    const send = await connectBot('beta');
    await send('hb', { ts: 1 });
    await waitFor('beta\'s heartbeat', () => presence.some((p) => p.botId === 'beta' && p.kind === 'heartbeat'));
    expect(lookups).not.toContain('beta');
    await store.create({ id: 'gamma', name: 'gamma', accountName: 'desk', owner: { name: 'amy', role: 'trader', accounts: ['desk'], stored: false }, channel: 'rest', runtime: 'child', image: null, strategy: { script: { name: 'x', config: {} } }, desiredState: 'running' });
    ingest.invalidate('gamma');
    const g = await connectBot('gamma');
    await g('hb', { ts: 1 });
    await waitFor('gamma\'s heartbeat', () => presence.some((p) => p.botId === 'gamma' && p.kind === 'heartbeat'));
    expect(lookups).toContain('gamma');
    await store.archive('beta');
    ingest.invalidate('beta');
    const beats = presence.filter((p) => p.botId === 'beta').length;
    await send('hb', { ts: 2 });
    await g('hb', { ts: 2 });
    await waitFor('gamma\'s second heartbeat', () => presence.filter((p) => p.botId === 'gamma' && p.kind === 'heartbeat').length >= 2);
    expect(presence.filter((p) => p.botId === 'beta')).toHaveLength(beats);
  });

  it('prunes performance snapshots past the retention', async () => {
    const n = await new BotIngest({ link: mqttLink(server), store, clock: { now: () => Date.now() + 40 * 86_400_000, date: () => new Date() }, logger: createLogger('silent'), deployed: async () => true }).prune();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(await store.performanceHistory('alpha', { limit: 10 })).toEqual([]);
  });
});
