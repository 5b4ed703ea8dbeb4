import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_SPEC_ENV } from '../../src/core/bots/runtime.js';
import type { BotStrategy } from '../../src/core/db/schema/index.js';
import { botWorld, type BotWorld } from '../helpers/bot-world.js';
import { drivers } from '../helpers/test-env.js';
import { spawnBot, type BotChild } from './bot-child.js';
import { ensureBuilt } from './dist.js';

/**
 * What a bot process SIGKILLed mid-trade does when it is started again with the same state dir, as its
 * `on_restart` says: `flatten` closes the position its executors held (a market order through the
 * server: the account's perpetual position is zero), cancels their resting orders, reports the close's
 * fill, says so in its log and starts the strategy afresh (a flatten the server refuses leaves it stopped,
 * its state kept for the next process or a start to flatten again); `resume` (the default, also for a spec from
 * before the setting existed) carries on with the same executors, position and orders.
 *
 * The strategy: bollinger_v1 on sim_perpetual with a long threshold it always meets (it opens a long at
 * market at once and rests its take profit), beside pmm_simple resting a buy and a sell 2% away.
 */


const tag = `f${process.pid % 10000}`;
const market = { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' };
/** bb_long_threshold: %B is always below 1000, so the controller goes long at its first decision; -1000: never. */
const strategy = (longThreshold: number): BotStrategy => ({
  controllers: [
    {
      controller_name: 'bollinger_v1',
      config: { ...market, total_amount_quote: '200', max_executors_per_side: 1, leverage: 5, interval: '1m', bb_length: 2, bb_long_threshold: longThreshold, take_profit: 0.05, stop_loss: 0.2, time_limit: null, trailing_stop: null },
    },
    { controller_name: 'pmm_simple', config: { ...market, total_amount_quote: '200', buy_spreads: [0.02], sell_spreads: [0.02], leverage: 5 } },
  ],
});

type Order = { client_order_id: string; status: string; side: string; order_type: string; filled_amount: number };

describe.each(drivers())('a bot process restarted with its state dir (%s)', (driver) => {
  let w: BotWorld;
  const children: BotChild[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    w = await botWorld(driver);
  }, 180_000);
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await w?.stop();
  });

  const perpAccount = async (name: string) => {
    const r = await w.server.call('POST', '/accounts', { account_name: name, connectors: [{ connector_name: 'sim_perpetual', paper_balances: { USDT: '10000' } }] });
    expect(r.status, r.text).toBe(201);
  };
  const orders = async (account: string) => (await w.server.call('GET', `/trading/orders?account_name=${account}&status=all&limit=100`)).body.data as Order[];
  const position = async (account: string) => {
    const r = await w.server.call('GET', `/trading/positions?account_name=${account}`);
    expect(r.status, r.text).toBe(200);
    const rows = r.body.data as Array<{ trading_pair: string; amount: number; side: string }>;
    return rows.filter((p) => p.trading_pair === 'BTC-USDT').reduce((sum, p) => sum + Math.abs(Number(p.amount)), 0);
  };
  type Executors = { runs: Array<{ id: string; executors: Array<{ id: string; status: string }> }> };
  const executors = async (id: string) => ((await w.ask(id, 'status')).data as Executors).runs.flatMap((r) => r.executors.map((e) => [r.id, e.id, e.status]));

  /** Deploys the bot, starts it with a state dir, waits for its long and its three resting orders, and SIGKILLs it. */
  const tradeThenKill = async (id: string, account: string) => {
    await perpAccount(account);
    const stateDir = mkdtempSync(join(tmpdir(), 'tradedesk-bot-state-'));
    dirs.push(stateDir);
    const { env } = await w.deploy(id, account, strategy(1000));
    const first = spawnBot({ ...env, TRADEDESK_BOT_STATE_DIR: stateDir });
    children.push(first);
    // The long's market buy filled, its take profit and pmm's two levels rest.
    await expect.poll(async () => (await orders(account)).filter((o) => o.status === 'open').length, { timeout: 30_000 }).toBe(3);
    expect(await position(account)).toBeGreaterThan(0);
    await expect.poll(async () => (await executors(id)).map((e) => e[2]), { timeout: 10_000 }).toEqual(['active', 'active', 'active']);
    const before = await executors(id);
    // Steps after the orders were placed have been saved: the executors know their orders.
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    return { env, stateDir, before, placed: await orders(account) };
  };

  it('with on_restart flatten: closes the position at market, cancels the resting orders, reports the fill, logs it, and starts new executors', async () => {
    const id = `${tag}-flat`;
    const account = 'flatdesk';
    const { env, stateDir, before, placed } = await tradeThenKill(id, account);
    const held = await position(account);
    const open = placed.filter((o) => o.status === 'open').map((o) => o.client_order_id);

    // Started again by its server with the setting (and a bollinger that no longer signals, so that the
    // account's position afterwards is the flatten's alone).
    const spec = { ...JSON.parse(env[BOT_SPEC_ENV]!), strategy: strategy(-1000), on_restart: 'flatten' };
    const second = spawnBot({ ...env, [BOT_SPEC_ENV]: JSON.stringify(spec), TRADEDESK_BOT_STATE_DIR: stateDir });
    children.push(second);
    await expect.poll(() => w.of(id, 'status_updates').filter((s) => s.msg === 'online').length, { timeout: 30_000 }).toBe(2);

    expect(await position(account), second.output()).toBe(0);
    const after = await orders(account);
    const byId = new Map(after.map((o) => [o.client_order_id, o]));
    expect(open.map((o) => byId.get(o)?.status)).toEqual(['canceled', 'canceled', 'canceled']);
    const fresh = after.filter((o) => !placed.some((p) => p.client_order_id === o.client_order_id));
    const close = fresh.filter((o) => o.order_type === 'market');
    expect(close).toHaveLength(1);
    expect(close[0]).toMatchObject({ side: 'sell', status: 'filled', filled_amount: held });
    // The strategy started afresh: pmm_simple's two levels rest anew, under new executors.
    await expect.poll(async () => (await orders(account)).filter((o) => o.status === 'open' && o.order_type === 'limit').length, { timeout: 15_000 }).toBe(2);
    const now = await executors(id);
    expect(now.some((e) => before.some((b) => b[1] === e[1]))).toBe(false);
    expect((await w.ask(id, 'status')).msg).toBe('running');

    // The close's fill is reported as every fill is, and the log says what was flattened.
    await expect.poll(() => w.of(id, 'events').filter((e) => e.type === 'order_filled' && e.data.client_order_id === close[0]!.client_order_id).length, { timeout: 10_000 }).toBe(1);
    const lines = w.of(id, 'log').map((l) => l.msg as string);
    expect(lines.find((l) => l.startsWith('flattened after a restart'))).toBe('flattened after a restart: 3 executors stopped (1 with a position, closed at market; working orders cancelled)');

    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('by default (a spec without on_restart): resumes the same executors with the position and the orders as they were', async () => {
    const id = `${tag}-keep`;
    const account = 'keepdesk';
    const { env, stateDir, before, placed } = await tradeThenKill(id, account);
    const held = await position(account);

    const spec = JSON.parse(env[BOT_SPEC_ENV]!) as Record<string, unknown>;
    delete spec.on_restart;
    const second = spawnBot({ ...env, [BOT_SPEC_ENV]: JSON.stringify(spec), TRADEDESK_BOT_STATE_DIR: stateDir });
    children.push(second);
    await expect.poll(() => w.of(id, 'status_updates').filter((s) => s.msg === 'online').length, { timeout: 30_000 }).toBe(2);
    expect(await executors(id)).toEqual(before);
    // A few steps later: the same position and the same orders, none placed, none cancelled.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await position(account)).toBe(held);
    expect((await orders(account)).map((o) => [o.client_order_id, o.status])).toEqual(placed.map((o) => [o.client_order_id, o.status]));
    expect(w.of(id, 'log').some((l) => String(l.msg).startsWith('flattened'))).toBe(false);

    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('with on_restart flatten refused by the server: starts nothing and says so; the next process and a start flatten again', async () => {
    const id = `${tag}-pend`;
    const account = 'penddesk';
    const { env, stateDir, placed } = await tradeThenKill(id, account);
    const held = await position(account);
    const open = placed.filter((o) => o.status === 'open').map((o) => o.client_order_id).sort();
    // The server refuses every request of an archived bot: its cancels and its close too.
    const archived = (on: boolean) => w.server.services.db.execute(sql`update bots set archived_at = ${on ? new Date() : null} where id = ${id}`);
    await archived(true);
    const spec = { ...JSON.parse(env[BOT_SPEC_ENV]!), strategy: strategy(-1000), on_restart: 'flatten' };
    const launch = () => {
      const c = spawnBot({ ...env, [BOT_SPEC_ENV]: JSON.stringify(spec), TRADEDESK_BOT_STATE_DIR: stateDir });
      children.push(c);
      return c;
    };
    const incomplete = () => w.of(id, 'log').filter((l) => String(l.msg).startsWith('flatten after a restart incomplete: 3 of 3 executors still open (')).length;

    const second = launch();
    await expect.poll(() => w.of(id, 'status_updates').filter((s) => s.msg === 'online').length, { timeout: 30_000 }).toBe(2);
    expect(incomplete(), second.output()).toBe(1);
    expect((await w.ask(id, 'status')).msg).toBe('stopped');
    expect(await position(account)).toBe(held);
    expect((await orders(account)).filter((o) => o.status === 'open').map((o) => o.client_order_id).sort()).toEqual(open);

    // Ended from outside while still refused: the next process tries again.
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toEqual({ code: 0, signal: null });
    const third = launch();
    await expect.poll(() => w.of(id, 'status_updates').filter((s) => s.msg === 'online').length, { timeout: 30_000 }).toBe(3);
    expect(incomplete(), third.output()).toBe(2);
    expect(await position(account)).toBe(held);

    // Served again, a start flattens first, then starts afresh.
    await archived(false);
    expect(await w.ask(id, 'start', {}, 20_000)).toMatchObject({ status: 200 });
    expect(await position(account)).toBe(0);
    const byId = new Map((await orders(account)).map((o) => [o.client_order_id, o.status]));
    expect(open.map((o) => byId.get(o))).toEqual(['canceled', 'canceled', 'canceled']);
    expect(w.of(id, 'log').some((l) => String(l.msg).startsWith('flattened after a restart: 3 executors stopped (1 with a position'))).toBe(true);
    await expect.poll(async () => (await orders(account)).filter((o) => o.status === 'open' && o.order_type === 'limit').length, { timeout: 15_000 }).toBe(2);

    third.child.kill('SIGTERM');
    expect(await third.exited, third.output()).toEqual({ code: 0, signal: null });
  }, 150_000);
});
