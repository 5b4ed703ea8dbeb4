import { commandRunner } from '../../src/app/services.js';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcBus } from '../../src/core/bots/bus.js';
import { EmbeddedBroker } from '../../src/core/bots/broker.js';
import { RpcMarketSource, ServerRpc } from '../../src/bot/server-rpc.js';
import { simMarkets } from '../../src/core/exchange/sim/markets.js';
import { BotGateway, type DeployedBot } from '../../src/core/bots/gateway.js';
import { mqttLink } from '../../src/core/bots/link.js';
import { PgBotCredentials } from '../../src/core/bots/pg-credentials.js';
import { botClientId } from '../../src/core/bots/topics.js';
import { systemClock } from '../../src/core/clock.js';
import { createRegistry } from '../../src/core/command/index.js';
import { createLogger } from '../../src/core/logger.js';
import { Vault } from '../../src/core/secrets/vault.js';
import { allCommands } from '../../src/tools/index.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * A bot's orders over MQTT: the bot, logged in to the embedded broker with its own credentials, asks on
 * `hbot/<id>/rpc/<name>`; the gateway runs the command as `bot:<name>` on the bot channel, on the bot's
 * account only, through every guard.
 */

const tag = `g${process.pid}${Date.now() % 100000}`;

describe.each(drivers())('bot gateway (%s)', (driver) => {
  let s: TestServer;
  let broker: EmbeddedBroker;
  let serverClient: MqttClient;
  let botClient: MqttClient;
  let botBus: RpcBus;
  let serverBus: RpcBus;
  const bots = new Map<string, DeployedBot>();
  const alpha = `${tag}-${driver}-alpha`;

  const rows = async <T = any>(q: ReturnType<typeof sql>): Promise<T[]> => ((await s.services.db.execute(q)) as unknown as { rows: T[] }).rows;
  const ask = (bot: string, rpc: string, data: Record<string, unknown>) =>
    botBus.request(`hbot/${bot}/rpc/${rpc}`, data, { replyTo: RpcBus.replyTopic(`hbot/${alpha}/inbox`), timeoutMs: 5000, who: 'the server' });
  const buy = (id: string, extra: Record<string, unknown> = {}) => ({ connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001', client_order_id: id, ...extra });

  beforeAll(async () => {
    s = await testServer(driver);
    const logger = createLogger('silent');
    const registry = createRegistry(allCommands);
    const run = commandRunner(registry, () => s.services, logger);
    const acct = await s.call('POST', '/accounts', { account_name: 'botdesk', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '10000', BTC: '0' } }] });
    expect(acct.status, acct.text).toBe(201);
    bots.set(alpha, { account: 'botdesk', principal: { name: `bot:${alpha}`, role: 'trader', accounts: ['botdesk'] } });
    const credentials = new PgBotCredentials(s.services.db, new Vault(randomBytes(32)));
    broker = new EmbeddedBroker({ port: 0, credentials, logger });
    await broker.start();
    const server = broker.serverLogin();
    const login = await credentials.issue(alpha);
    [serverClient, botClient] = await Promise.all([
      mqtt.connectAsync(broker.url, { reconnectPeriod: 0, username: server.username, password: server.password }),
      mqtt.connectAsync(broker.url, { reconnectPeriod: 0, clientId: botClientId(alpha), username: login.username, password: login.password }),
    ]);
    serverBus = new RpcBus(mqttLink(serverClient), { clock: systemClock, nodeId: 'server', replies: 'hbot/+/reply/+' });
    botBus = new RpcBus(mqttLink(botClient), { clock: systemClock, nodeId: alpha, replies: `hbot/${alpha}/inbox/+` });
    await Promise.all([serverBus.start(), botBus.start()]);
    await new BotGateway(serverBus, { run, directory: { lookup: async (id) => bots.get(id) ?? null }, logger }).start();
  });
  afterAll(async () => {
    serverBus?.stop();
    botBus?.stop();
    await Promise.all([serverClient?.endAsync(), botClient?.endAsync()]);
    await broker?.stop();
    await s?.stop();
  });

  it('places an order on the bot\'s account as bot:<name> on the bot channel, journaled; a retry with its client order id places nothing new', async () => {
    const r = await ask(alpha, 'place_order', buy('b-1'));
    expect(r.status, r.msg).toBe(200);
    const placed = r.result as { order: { account_name: string; status: string; client_order_id: string }; replayed: boolean };
    expect(placed.order).toMatchObject({ account_name: 'botdesk', status: 'filled', client_order_id: 'b-1' });
    expect(placed.replayed).toBe(false);
    const again = await ask(alpha, 'place_order', buy('b-1'));
    expect((again.result as { replayed: boolean }).replayed).toBe(true);
    expect(await rows(sql`select count(*)::int as n from orders where account_name = 'botdesk'`)).toEqual([{ n: 1 }]);
    const journal = await rows(sql`select principal, channel, command, outcome, account_name from audit_events where request_id like ${`bot:${alpha}:%`} order by id`);
    expect(journal).toEqual([
      { principal: `bot:${alpha}`, channel: 'bot', command: 'trading_place_order', outcome: 'OK', account_name: 'botdesk' },
      { principal: `bot:${alpha}`, channel: 'bot', command: 'trading_place_order', outcome: 'OK', account_name: 'botdesk' },
    ]);
    const order = await ask(alpha, 'get_order', { order_id: 'b-1' });
    expect(order.status, order.msg).toBe(200);
  });

  it('a bot with a login but no deployment is refused; one asking in another bot\'s name is dropped by the broker', async () => {
    const beta = `${tag}-${driver}-beta`;
    const gamma = `${tag}-${driver}-gamma`;
    bots.set(beta, { account: 'botdesk', principal: { name: `bot:${beta}`, role: 'trader', accounts: ['botdesk'] } });
    const login = await new PgBotCredentials(s.services.db, new Vault(randomBytes(32))).issue(gamma);
    const intruder = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, clientId: botClientId(gamma), username: login.username, password: login.password });
    const gammaBus = new RpcBus(mqttLink(intruder), { clock: systemClock, nodeId: gamma, replies: `hbot/${gamma}/inbox/+` });
    await gammaBus.start();
    const undeployed = await gammaBus.request(`hbot/${gamma}/rpc/place_order`, buy('x-0'), { replyTo: RpcBus.replyTopic(`hbot/${gamma}/inbox`), timeoutMs: 5000, who: 'the server' });
    expect(undeployed).toMatchObject({ status: 400, code: 'POLICY_DENIED', msg: `No bot ${gamma} is deployed, so its requests are refused.` });
    gammaBus.stop();
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    intruder.publish(`hbot/${beta}/rpc/place_order`, JSON.stringify({ header: { reply_to: '' }, data: buy('x-1') }), { qos: 1 });
    await closed;
    await new Promise((r) => setTimeout(r, 200));
    expect(await rows(sql`select count(*)::int as n from orders where client_order_id = 'x-1'`)).toEqual([{ n: 0 }]);
    await intruder.endAsync(true);
  });

  it('reads the market for the bot: the order book and closed candles, with no account involved', async () => {
    const book = await ask(alpha, 'get_order_book', { connector_name: 'sim', trading_pair: 'BTC-USDT', depth: 1 });
    expect(book.status, book.msg).toBe(200);
    const b = book.result as { bids: Array<{ price: number }>; asks: Array<{ price: number }> };
    expect(b.bids).toHaveLength(1);
    expect(b.asks[0]!.price).toBeGreaterThan(b.bids[0]!.price);
    const candles = await ask(alpha, 'get_candles', { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1m', limit: 5 });
    expect(candles.status, candles.msg).toBe(200);
    expect((candles.result as { candles: unknown[] }).candles).toHaveLength(5);
    // Read calls are journaled in batches: wait for the second row.
    const journal = () => rows(sql`select command, channel from audit_events where request_id like ${`bot:${alpha}:%`} and command like 'market_data%' order by id`);
    await expect.poll(journal, { timeout: 5000 }).toEqual([
      { command: 'market_data_get_order_book', channel: 'bot' },
      { command: 'market_data_get_candles', channel: 'bot' },
    ]);
  });

  it("reads a market's order rules for the bot (what sizes its grids), as decimal text; an unlisted pair is null", async () => {
    const source = new RpcMarketSource(new ServerRpc(botBus, alpha));
    const perp = simMarkets('perpetual').find((m) => m.trading_pair === 'BTC-USDT')!.rules;
    expect(await source.rules('sim_perpetual', 'BTC-USDT')).toEqual(perp);
    expect((await source.rules('sim', 'BTC-USDT'))?.min_base_amount_increment).toBe('0.00001');
    expect(await source.rules('sim', 'NOPE-USDT')).toBeNull();
  });

  it('refuses another account, an RPC that is not a bot\'s, and bad input with field paths', async () => {
    const other = await ask(alpha, 'place_order', buy('b-2', { account_name: 'master_account' }));
    expect(other).toMatchObject({ status: 400, code: 'POLICY_DENIED', msg: `Bot ${alpha} trades account botdesk only.` });
    expect(await ask(alpha, 'delete_account', {})).toMatchObject({ status: 400, code: 'NOT_SUPPORTED' });
    const bad = await ask(alpha, 'place_order', buy('b-4', { amount: '-1' }));
    expect(bad).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((bad.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toContain('amount');
    expect(await rows(sql`select count(*)::int as n from orders where account_name = 'botdesk'`)).toEqual([{ n: 1 }]);
  });

  it('a bot being stopped may cancel and read its orders, and place none', async () => {
    const rest = await ask(alpha, 'place_order', buy('w-1', { order_type: 'limit', price: '10000' }));
    expect(rest.status, rest.msg).toBe(200);
    bots.set(alpha, { ...bots.get(alpha)!, winding: true });
    try {
      const refused = await ask(alpha, 'place_order', buy('w-2', { order_type: 'limit', price: '10000' }));
      expect(refused).toMatchObject({ status: 400, code: 'POLICY_DENIED', msg: expect.stringMatching(/is being stopped: it may cancel and read its orders, not place new ones/) });
      const canceled = await ask(alpha, 'cancel_order', { order_id: 'w-1' });
      expect(canceled.status, canceled.msg).toBe(200);
      expect((await ask(alpha, 'get_order', { order_id: 'w-1' })).result).toMatchObject({ order: { status: 'canceled' } });
      expect(await rows(sql`select count(*)::int as n from orders where client_order_id = 'w-2'`)).toEqual([{ n: 0 }]);
    } finally {
      bots.set(alpha, { ...bots.get(alpha)!, winding: false });
    }
  });

  it("the account's caps and pair list hold for a bot's orders as for anyone's", async () => {
    const policy = await s.call('PUT', '/accounts/botdesk/policy', { max_order_notional: 50, allowed_pairs: ['ETH-*'] });
    expect(policy.status, policy.text).toBe(200);
    try {
      const pair = await ask(alpha, 'place_order', buy('g-1'));
      expect(pair).toMatchObject({ status: 400, code: 'POLICY_DENIED', msg: expect.stringMatching(/BTC-USDT/) });
      const cap = await ask(alpha, 'place_order', { ...buy('g-2'), trading_pair: 'ETH-USDT', amount: '0.1' });
      expect(cap).toMatchObject({ status: 400, code: 'RISK_LIMIT_EXCEEDED' });
      expect(await rows(sql`select count(*)::int as n from orders where client_order_id in ('g-1', 'g-2')`)).toEqual([{ n: 0 }]);
      const journal = await rows(sql`select outcome from audit_events where request_id like ${`bot:${alpha}:%`} order by id desc limit 2`);
      expect(journal).toEqual([{ outcome: 'RISK_LIMIT_EXCEEDED' }, { outcome: 'POLICY_DENIED' }]);
    } finally {
      const back = await s.call('PUT', '/accounts/botdesk/policy', { max_order_notional: null, allowed_pairs: null });
      expect(back.status, back.text).toBe(200);
    }
  });

  it("a bot's equal orders (a TWAP's slices) pass the account's duplicate window, which holds for callers", async () => {
    expect((await s.call('PUT', '/accounts/botdesk/policy', { duplicate_window_seconds: 300 })).status).toBe(200);
    try {
      for (const id of ['d-1', 'd-2']) {
        const r = await ask(alpha, 'place_order', buy(id));
        expect(r, JSON.stringify(r)).toMatchObject({ status: 200 });
      }
      const order = { ...buy('d-3'), amount: '0.002', account_name: 'botdesk' };
      delete (order as { client_order_id?: string }).client_order_id;
      expect((await s.call('POST', '/trading/orders', order)).status).toBe(201);
      expect((await s.call('POST', '/trading/orders', order)).body.error?.code).toBe('DUPLICATE_ORDER');
    } finally {
      expect((await s.call('PUT', '/accounts/botdesk/policy', { duplicate_window_seconds: null })).status).toBe(200);
    }
  });

  it('with the account\'s kill switch on, a bot\'s new order is refused like anyone\'s', async () => {
    const ks = await s.call('POST', '/safety/kill-switch', { account_name: 'botdesk', reason: 'bots too' });
    expect(ks.status, ks.text).toBe(200);
    const r = await ask(alpha, 'place_order', buy('b-5'));
    expect(r).toMatchObject({ status: 400, code: 'KILL_SWITCH_ACTIVE' });
    const last = await rows(sql`select principal, outcome from audit_events where request_id like ${`bot:${alpha}:%`} order by id desc limit 1`);
    expect(last).toEqual([{ principal: `bot:${alpha}`, outcome: 'KILL_SWITCH_ACTIVE' }]);
  });
});
