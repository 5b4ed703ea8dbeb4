import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botWorld, type BotWorld } from '../helpers/bot-world.js';
import { drivers } from '../helpers/test-env.js';
import { spawnBot, type BotChild } from './bot-child.js';
import { ensureBuilt } from './dist.js';

/**
 * `tradedesk bot` as the server's child runtime starts it: the built CLI, its launch spec and password
 * in the environment, against a broker and gateway run by the test. It comes online, beats, answers the
 * status RPC, and on SIGTERM says offline and exits 0: without a state dir it stops its strategy
 * (orders cancelled), with one it suspends it for the next process to resume. A spec it cannot run exits 2.
 */


const tag = `c${process.pid % 10000}`;

describe.each(drivers())('the tradedesk bot process (%s)', (driver) => {
  let w: BotWorld;
  const children: BotChild[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    w = await botWorld(driver);
    await w.account('childdesk');
  }, 180_000);
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await w?.stop();
  });

  it('comes online, heartbeats, answers status, and exits 0 on SIGTERM after saying offline', async () => {
    const id = `${tag}-child`;
    const { env } = await w.deploy(id, 'childdesk', { controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '200', buy_spreads: [0.01], sell_spreads: [0.01] } }] });
    const bot = spawnBot(env);
    children.push(bot);
    await expect.poll(() => w.of(id, 'status_updates').map((s) => s.msg), { timeout: 20_000 }).toContain('online');
    await expect.poll(() => w.of(id, 'hb').length, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(typeof w.of(id, 'hb')[0].ts).toBe('number');

    const status = await w.ask(id, 'status');
    expect(status, bot.output()).toMatchObject({ status: 200, msg: 'running', data: { account: 'childdesk', strategy: 'pmm_simple' } });
    // Its executors' orders rest on the account, placed by the bot through the server.
    const openOrders = async () => (await w.server.call('GET', '/trading/orders?account_name=childdesk&status=open')).body.data as unknown[];
    await expect.poll(async () => (await openOrders()).length, { timeout: 15_000 }).toBe(2);

    bot.child.kill('SIGTERM');
    const end = await bot.exited;
    expect(end, bot.output()).toEqual({ code: 0, signal: null });
    expect(w.of(id, 'status_updates').at(-1)).toMatchObject({ type: 'availability', msg: 'offline' });
    expect(await openOrders()).toEqual([]);
    const all = await w.server.call('GET', '/trading/orders?account_name=childdesk&status=all');
    expect(all.body.data.map((o: { status: string }) => o.status), all.text).toEqual(['canceled', 'canceled']);
  });

  it('killed and started again with the same state dir, it resumes its executors and their orders instead of placing new ones', async () => {
    const id = `${tag}-resume`;
    await w.account('resumedesk');
    const stateDir = mkdtempSync(join(tmpdir(), 'tradedesk-bot-state-'));
    try {
      const { env } = await w.deploy(id, 'resumedesk', {
        controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '200', buy_spreads: [0.01], sell_spreads: [0.01], stop_loss: 0.05, take_profit: 0.02 } }],
      });
      const withState = { ...env, TRADEDESK_BOT_STATE_DIR: stateDir };
      const orders = async () => (await w.server.call('GET', '/trading/orders?account_name=resumedesk&status=all')).body.data as Array<{ client_order_id: string; status: string }>;
      type Executors = { runs: Array<{ executors: Array<{ id: string; status: string; custom: Record<string, unknown> }> }> };
      const executors = async () => ((await w.ask(id, 'status')).data as Executors).runs[0]!.executors;

      const first = spawnBot(withState);
      children.push(first);
      await expect.poll(async () => (await orders()).filter((o) => o.status === 'open').length, { timeout: 15_000 }).toBe(2);
      // A step after the orders were placed has been written: the executors know their orders.
      await expect.poll(async () => (await executors()).map((e) => e.status), { timeout: 10_000 }).toEqual(['active', 'active']);
      const before = await executors();
      const placed = (await orders()).map((o) => o.client_order_id).sort();
      await new Promise((r) => setTimeout(r, 1500));
      first.child.kill('SIGKILL');
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

      const second = spawnBot(withState);
      children.push(second);
      await expect.poll(() => w.of(id, 'status_updates').filter((s) => s.msg === 'online').length, { timeout: 20_000 }).toBe(2);
      const after = await executors();
      expect(after.map((e) => [e.id, e.status, e.custom])).toEqual(before.map((e) => [e.id, e.status, e.custom]));
      // A few steps later still the same two orders: none placed anew.
      await new Promise((r) => setTimeout(r, 2000));
      expect((await orders()).map((o) => o.client_order_id).sort()).toEqual(placed);

      // SIGTERM (its server restarting) suspends it: the orders stay, and the next process takes them up.
      second.child.kill('SIGTERM');
      expect(await second.exited, second.output()).toEqual({ code: 0, signal: null });
      expect((await orders()).map((o) => o.status)).toEqual(['open', 'open']);
      const third = spawnBot(withState);
      children.push(third);
      await expect.poll(() => w.of(id, 'status_updates').filter((s) => s.msg === 'online').length, { timeout: 20_000 }).toBe(3);
      expect((await executors()).map((e) => [e.id, e.status])).toEqual(before.map((e) => [e.id, e.status]));

      // It still follows them: a stop request cancels exactly those, then it ends.
      expect(await w.ask(id, 'stop', { skip_order_cancellation: false })).toMatchObject({ status: 200 });
      expect((await orders()).map((o) => o.status)).toEqual(['canceled', 'canceled']);
      third.child.kill('SIGTERM');
      expect(await third.exited, third.output()).toEqual({ code: 0, signal: null });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('a spec it cannot run: a clear message on stderr and exit code 2', async () => {
    const missing = spawnBot({});
    expect(await missing.exited).toEqual({ code: 2, signal: null });
    expect(missing.output()).toContain('TRADEDESK_BOT is not set');

    const { env } = await w.deploy(`${tag}-bad`, 'childdesk', { controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'sim' } }] });
    const bad = spawnBot(env);
    expect(await bad.exited).toEqual({ code: 2, signal: null });
    expect(bad.output()).toMatch(/strategy cannot run: Invalid pmm_simple config: trading_pair/);
  });
});
