import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startBot, type RunningBot } from '../../src/bot/main.js';
import { RpcOrderActions, ServerRpc } from '../../src/bot/server-rpc.js';
import { RpcBus } from '../../src/core/bots/bus.js';
import { mqttLink } from '../../src/core/bots/link.js';
import { botClientId } from '../../src/core/bots/topics.js';
import { systemClock } from '../../src/core/clock.js';
import { AppError } from '../../src/core/errors.js';
import type { OrderSender } from '../../src/core/executors/order-path.js';
import { Decimal } from '../../src/core/decimal.js';
import { botWorld, type BotWorld } from '../helpers/bot-world.js';
import { drivers } from '../helpers/test-env.js';

/**
 * A bot in this process, started exactly as `tradedesk bot` starts (its env, its broker login), against
 * the server's real services: every order it places reaches the paper ledger through the gateway as
 * `bot:<id>` on the bot channel, each fill comes back as one event with a stable id, guardrails refuse
 * its orders as anyone's (and its executors hear the refusal), and a shutdown cancels what it left open.
 */

const tag = `p${process.pid % 10000}`;

describe.each(drivers())('a bot process on the server\'s order path (%s)', (driver) => {
  let w: BotWorld;
  const bots: RunningBot[] = [];
  const rows = async <T = any>(q: ReturnType<typeof sql>): Promise<T[]> => ((await w.server.services.db.execute(q)) as unknown as { rows: T[] }).rows;
  const start = async (env: Record<string, string>) => {
    const bot = await startBot(env);
    bots.push(bot);
    return bot;
  };

  beforeAll(async () => {
    w = await botWorld(driver);
  });
  afterAll(async () => {
    for (const b of bots) await b.shutdown().catch(() => undefined);
    await w?.stop();
  });

  it('runs a script: its orders are the bot\'s in the ledger, and each fill is one event with a stable id and exact amounts', async () => {
    const id = `${tag}-twap`;
    await w.account('botdesk');
    const { env } = await w.deploy(id, 'botdesk', { script: { name: 'twap_buyer_v1', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '100', duration: 2, interval: 1 } } });
    await start(env);
    await expect.poll(() => w.of(id, 'status_updates').map((s) => s.msg), { timeout: 10_000 }).toContain('online');

    // Two slices of 50 USDT: market orders, filled at once on sim.
    const orders = () => rows<{ client_order_id: string; status: string }>(sql`select client_order_id, status from orders where account_name = 'botdesk' order by created_at`);
    await expect.poll(async () => (await orders()).length, { timeout: 15_000 }).toBe(2);
    expect((await orders()).every((o) => o.status === 'filled')).toBe(true);
    const journal = await rows(sql`select distinct principal, channel, command, outcome from audit_events where account_name = 'botdesk' and command = 'trading_place_order'`);
    expect(journal).toEqual([{ principal: `bot:${id}`, channel: 'bot', command: 'trading_place_order', outcome: 'OK' }]);

    const fills = await rows<{ client_order_id: string; price: string; amount: string }>(
      sql`select o.client_order_id, f.price::text, f.amount::text from fills f join orders o on o.id = f.order_id where o.account_name = 'botdesk' order by f.id`,
    );
    await expect.poll(() => w.of(id, 'events').length, { timeout: 10_000 }).toBe(fills.length);
    const events = w.of(id, 'events');
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    for (const [i, f] of fills.entries()) {
      const e = events[i];
      expect(e).toMatchObject({ type: 'order_filled', data: { client_order_id: f.client_order_id, trading_pair: 'BTC-USDT', side: 'buy' } });
      expect(new Decimal(e.data.price).eq(f.price)).toBe(true);
      expect(new Decimal(e.data.amount).eq(f.amount)).toBe(true);
      expect(e.event_id).toBe(`${id}:${f.client_order_id}:0`);
    }

    const history = await w.ask(id, 'history', { days: 0 });
    expect(history.status, history.msg).toBe(200);
    expect((history.trades as Array<{ client_order_id: string }>).map((t) => t.client_order_id)).toEqual(fills.map((f) => f.client_order_id));
    const status = await w.ask(id, 'status');
    expect(status).toMatchObject({ status: 200, msg: 'running', data: { strategy: 'script twap_buyer_v1', account: 'botdesk' } });
    expect((status.data as { runs: Array<{ done: boolean }> }).runs[0]!.done).toBe(true);
    // A script's traded volume is every fill's price times amount, exactly.
    const volume = fills.reduce((v, f) => v.plus(new Decimal(f.price).times(f.amount)), new Decimal(0));
    expect(new Decimal((status.data as { pnl: { volume_traded: string } }).pnl.volume_traded).eq(volume)).toBe(true);
  });

  it('runs a controller: its executors\' limit orders rest on the account; config changes are validated; a shutdown cancels them and says offline', async () => {
    const id = `${tag}-pmm`;
    await w.account('mmdesk');
    const { env } = await w.deploy(id, 'mmdesk', { controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '200', buy_spreads: [0.01], sell_spreads: [0.01] } }] });
    const bot = await start(env);
    const open = () => rows<{ n: number }>(sql`select count(*)::int as n from orders where account_name = 'mmdesk' and status = 'open'`);
    await expect.poll(async () => (await open())[0]!.n, { timeout: 15_000 }).toBe(2);
    const status = await w.ask(id, 'status');
    expect((status.data as { runs: Array<{ controller_name: string; active_executors: number }> }).runs).toMatchObject([{ controller_name: 'pmm_simple', active_executors: 2 }]);

    expect(await w.ask(id, 'config', { params: [['buy_spreads', [-1]]] })).toMatchObject({ status: 400, msg: expect.stringContaining('buy_spreads') });
    const changed = await w.ask(id, 'config', { params: [['executor_refresh_time', 600]] });
    expect(changed).toMatchObject({ status: 200, changes: ['executor_refresh_time'], config: { strategy: { executor_refresh_time: 600, total_amount_quote: '200' } } });

    await expect.poll(() => Object.keys(w.of(id, 'performance').at(-1) ?? {}), { timeout: 5000 }).toEqual(['pmm_simple']);

    await bot.shutdown();
    bots.splice(bots.indexOf(bot), 1);
    expect((await open())[0]!.n).toBe(0);
    const canceled = await rows<{ n: number }>(sql`select count(*)::int as n from orders where account_name = 'mmdesk' and status = 'canceled'`);
    expect(canceled[0]!.n).toBe(2);
    expect(w.of(id, 'status_updates').at(-1)).toMatchObject({ type: 'availability', msg: 'offline' });
  });

  it('the bot\'s order actions over RPC: a retried place is the same order, amounts come back exact, a refusal is its AppError', async () => {
    const id = `${tag}-rpc`;
    await w.account('rpcdesk');
    const { spec, password } = await w.deploy(id, 'rpcdesk', { script: { name: 'twap_buyer_v1', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '100', duration: 2, interval: 1 } } });
    const client = await mqtt.connectAsync(spec.mqtt_url, { reconnectPeriod: 0, clientId: botClientId(id), username: spec.mqtt_username, password });
    const bus = new RpcBus(mqttLink(client), { clock: systemClock, nodeId: id, replies: ServerRpc.repliesFilter(id) });
    await bus.start();
    try {
      const actions = new RpcOrderActions(new ServerRpc(bus, id));
      const sender = { kind: 'bot', id, account: 'rpcdesk', principal: { name: `bot:${id}`, role: 'trader', accounts: ['rpcdesk'], stored: false, channel: 'bot' }, outbox: [], runtime: { order_seq: 0, fills_seen: {}, last_seen: {}, error_count: 0, last_error: null } } satisfies OrderSender;
      const order = { client_order_id: 'rpc-1', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.00123' };
      await actions.place(sender, order, 'r1');
      await actions.place(sender, order, 'r2');
      expect(await rows(sql`select count(*)::int as n from orders where account_name = 'rpcdesk'`)).toEqual([{ n: 1 }]);
      const stored = (await actions.order(sender, 'rpc-1'))!;
      const [row] = await rows<{ filled_amount: string; average_fill_price: string }>(sql`select filled_amount::text, average_fill_price::text from orders where account_name = 'rpcdesk'`);
      expect(stored.status).toBe('filled');
      expect(new Decimal(stored.filledAmount).eq(row!.filled_amount)).toBe(true);
      expect(new Decimal(stored.averageFillPrice!).eq(row!.average_fill_price)).toBe(true);
      const fills = await actions.fills(sender, stored);
      expect(fills.reduce((s, f) => s.plus(f.amount), new Decimal(0)).eq('0.00123')).toBe(true);
      expect(await actions.order(sender, 'never-placed')).toBeNull();
      const refused = await actions.place(sender, { ...order, client_order_id: 'rpc-2', amount: '-1' }, 'r3').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AppError);
      expect(refused).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(((refused as AppError).details!.issues as Array<{ path: string }>).map((i) => i.path)).toContain('amount');
    } finally {
      bus.stop();
      await client.endAsync();
    }
  });

  it('with the kill switch on, the gateway refuses the bot\'s orders and its executors hear the refusal', async () => {
    const id = `${tag}-killed`;
    await w.account('killdesk');
    const ks = await w.server.call('POST', '/safety/kill-switch', { account_name: 'killdesk', reason: 'no bots today' });
    expect(ks.status, ks.text).toBe(200);
    const { env } = await w.deploy(id, 'killdesk', { controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '200', buy_spreads: [0.01], sell_spreads: [0.01] } }] });
    await start(env);
    type Status = { runs: Array<{ executors: Array<{ status: string; close_type: string | null }>; errors: { count: number; last: string | null } }> };
    await expect.poll(async () => ((await w.ask(id, 'status')).data as Status).runs[0]!.executors.filter((e) => e.close_type === 'FAILED').length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    const run = ((await w.ask(id, 'status')).data as Status).runs[0]!;
    expect(run.errors.count).toBeGreaterThanOrEqual(2);
    expect(run.errors.last).toMatch(/kill switch/i);
    expect(await rows(sql`select count(*)::int as n from orders where account_name = 'killdesk'`)).toEqual([{ n: 0 }]);
    const refused = await rows(sql`select distinct principal, channel, outcome from audit_events where account_name = 'killdesk' and command = 'trading_place_order'`);
    expect(refused).toEqual([{ principal: `bot:${id}`, channel: 'bot', outcome: 'KILL_SWITCH_ACTIVE' }]);
  });

  it('after a broker restart it connects again, says online again and answers RPCs', async () => {
    const id = `${tag}-reconnect`;
    await w.account('reconnectdesk');
    const { env } = await w.deploy(id, 'reconnectdesk', { script: { name: 'twap_buyer_v1', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '100', duration: 2, interval: 1 } } });
    await start(env);
    await expect.poll(() => w.of(id, 'status_updates').filter((s) => s.msg === 'online').length, { timeout: 10_000 }).toBe(1);
    await w.restartBroker();
    await expect.poll(() => w.of(id, 'status_updates').filter((s) => s.msg === 'online').length, { timeout: 20_000 }).toBe(2);
    await expect.poll(async () => (await w.ask(id, 'status', {}, 2000).catch(() => ({ status: 0 }))).status, { timeout: 15_000 }).toBe(200);
  });
});
