import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../src/app/services.js';
import type { BotExit, BotLaunch, BotRuntime } from '../../src/core/bots/runtime.js';
import { Decimal } from '../../src/core/decimal.js';
import { createLogger } from '../../src/core/logger.js';
import { HUMMINGBOT_SESSION, SESSION_FILLS } from '../fixtures/hummingbot-wire.js';
import { FakeHummingbot } from '../helpers/fake-hummingbot.js';
import { drivers, testEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The orchestrator and the ingest against a bot that speaks Hummingbot's wire, as recorded from a real
 * one: the runtime (our narrow launch interface) connects a FakeHummingbot with the login the
 * orchestrator issued, through the real embedded broker, and it replays the recorded session. Its fills
 * are stored once each even when the session is sent twice, its logs and performance reports are kept,
 * and the RPCs it answers the way Hummingbot does (status failing headless, config refused) come back
 * as clear errors rather than silence.
 */
class HummingbotRuntime implements BotRuntime {
  readonly kind = 'child' as const;
  readonly bots = new Map<string, FakeHummingbot>();
  #listeners: Array<(e: BotExit) => void> = [];

  async available(): Promise<boolean> {
    return true;
  }
  async launch(l: BotLaunch): Promise<void> {
    const id = l.spec.bot_id;
    // `quiet-` bots say online and nothing else; asked for their history, they list the session's fills.
    const quiet = id.startsWith('quiet-');
    const bot = new FakeHummingbot(l.spec.mqtt_url, id, { username: l.spec.mqtt_username, password: l.password }, quiet ? { history: () => ({ status: 200, msg: '', trades: SESSION_TRADES }) } : {});
    await bot.connect();
    this.bots.set(id, bot);
    // As a Hummingbot does once its script runs: the recorded session, then beats.
    void bot.replay(quiet ? HUMMINGBOT_SESSION.slice(0, 2) : HUMMINGBOT_SESSION).catch(() => undefined);
  }
  async stop(botId: string): Promise<void> {
    const bot = this.bots.get(botId);
    if (!bot) return;
    this.bots.delete(botId);
    await bot.close();
    for (const l of this.#listeners) l({ botId, code: 0, signal: null, tail: [] });
  }
  async reattach(): Promise<boolean> {
    return false;
  }
  async running(botId: string): Promise<boolean> {
    return this.bots.has(botId);
  }
  onExit(listener: (exit: BotExit) => void): void {
    this.#listeners.push(listener);
  }
  async remove(): Promise<void> {}
  async close(): Promise<void> {
    await Promise.all([...this.bots.values()].map((b) => b.close()));
  }
}

/** A stored numeric (its column's scale) as the shortest exact text. */
const exact = (v: unknown) => new Decimal(String(v)).toString();

/** The session's fills as the `history` answer lists trades (each with its trade id). */
const SESSION_TRADES = HUMMINGBOT_SESSION.filter((m) => m.topic === 'events' && m.payload.type === 'OrderFilled').map((m) => ({ ...(m.payload.data as Record<string, unknown>), trade_id: (m.payload.data as Record<string, unknown>).exchange_trade_id }));

const ADMIN_OWNER = { name: 'admin', role: 'admin' as const, accounts: null, stored: false };

describe.each(drivers())('a Hummingbot bot on the wire, to the orchestrator (%s)', (driver) => {
  let env: TestEnv;
  let services: Services;
  const runtime = new HummingbotRuntime();

  beforeAll(async () => {
    env = await testEnv(driver);
    services = (
      await createServices(env.config, createLogger('silent'), {
        bots: { runtimes: { child: runtime, docker: undefined }, orchestrator: { rpcTimeoutMs: 1_500, readyTimeoutMs: 10_000, stopGraceMs: 1_000 }, ingest: { flushMs: 50, knownTtlMs: 100 } },
      })
    ).services;
  }, 60_000);
  afterAll(async () => {
    await services?.close();
    await env?.cleanup();
  });

  it('comes online, and its recorded fills, logs and performance are stored, each fill once', async () => {
    const example = services.strategies.get('controller', 'bollinger_v1').example!.config;
    const bot = await services.bots.deploy({ id: 'hb-replay', accountName: 'master_account', owner: ADMIN_OWNER, channel: 'rest', runtime: 'child', strategy: { controllers: [{ controller_name: 'bollinger_v1', config: example }] } });
    expect(bot).toMatchObject({ observedState: 'running', desiredState: 'running' });

    const fills = async () => (await services.bots.fills('hb-replay', { limit: 50 })).data;
    await waitFor('both recorded fills', async () => ((await fills()).length === SESSION_FILLS.length ? true : undefined));
    // Sent again (a redelivery, a bot replaying its outbox): nothing new.
    await runtime.bots.get('hb-replay')!.replay(HUMMINGBOT_SESSION.filter((m) => m.topic === 'events'));
    await new Promise((r) => setTimeout(r, 500));
    const stored = (await fills()).map((f) => ({ fillId: f.fillId, clientOrderId: f.clientOrderId, side: f.side, price: exact(f.price), amount: exact(f.amount), fee: exact(f.fee), feeAsset: f.feeAsset }));
    expect(stored.sort((a, b) => a.fillId.localeCompare(b.fillId))).toEqual([...SESSION_FILLS].map((f) => ({ ...f })));

    const logs = await services.bots.logs('hb-replay', { limit: 100 });
    expect(logs.map((l) => l.level)).toEqual(expect.arrayContaining(['WARNING', 'ERROR']));
    expect(logs.find((l) => l.level === 'ERROR')!.message).toMatch(/candles are not ready/);
    const perf = await services.bots.performance('hb-replay', { limit: 50 });
    expect(perf.length).toBeGreaterThanOrEqual(3);
    expect(perf.some((p) => Number(p.volumeTraded) === 300.585)).toBe(true);
    expect((await services.bots.get('hb-replay'))!.lastHeartbeatAt).not.toBeNull();
  }, 60_000);

  it('answers the RPCs Hummingbot fails headless with its reason, and stops it with a correlated reply', async () => {
    // Hummingbot answers status 400 when headless: its reason comes back, not a timeout.
    await expect(services.bots.status('hb-replay')).rejects.toMatchObject({ code: 'UPSTREAM_REJECTED', message: "Bot hb-replay refused status: 'HummingbotApplication' object has no attribute 'strategy'." });
    const example = services.strategies.get('controller', 'bollinger_v1').example!.config;
    await expect(services.bots.updateConfig('hb-replay', { controllers: [{ controller_name: 'bollinger_v1', config: { ...example, cooldown_time: 99 } }] })).rejects.toMatchObject({
      message: expect.stringMatching(/clear_input/),
    });
    const fake = runtime.bots.get('hb-replay')!;
    const stopped = await services.bots.stop('hb-replay', { skipOrderCancellation: false });
    expect(stopped).toMatchObject({ desiredState: 'stopped', observedState: 'stopped' });
    expect(fake.requests.map((r) => r.cmd)).toEqual(expect.arrayContaining(['status', 'config', 'stop']));
    expect(fake.requests.find((r) => r.cmd === 'stop')!.data).toMatchObject({ skip_order_cancellation: false });
    const [run] = await services.bots.runs('hb-replay');
    expect(run).toMatchObject({ status: 'stopped', exitCode: 0 });
    expect(run!.finalStatus).toMatchObject({ status: 200 });
  }, 60_000);

  it('asks a bot that comes online for its fills, and stores those it never sent as events, once', async () => {
    const example = services.strategies.get('controller', 'bollinger_v1').example!.config;
    await services.bots.deploy({ id: 'quiet-hb', accountName: 'master_account', owner: ADMIN_OWNER, channel: 'rest', runtime: 'child', strategy: { controllers: [{ controller_name: 'bollinger_v1', config: example }] } });
    const fills = async () => (await services.bots.fills('quiet-hb', { limit: 50 })).data.map((f) => f.fillId).sort();
    await waitFor('the listed fills', async () => ((await fills()).length === SESSION_FILLS.length ? true : undefined));
    expect(await fills()).toEqual(SESSION_FILLS.map((f) => f.fillId).sort());
    expect(runtime.bots.get('quiet-hb')!.requests.filter((r) => r.cmd === 'history')).toHaveLength(1);
    // Online again (a reconnect): asked again, nothing doubled.
    await runtime.bots.get('quiet-hb')!.replay(HUMMINGBOT_SESSION.slice(0, 1));
    await waitFor('the second history request', () => (runtime.bots.get('quiet-hb')!.requests.filter((r) => r.cmd === 'history').length === 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(await fills()).toEqual(SESSION_FILLS.map((f) => f.fillId).sort());
    await services.bots.stop('quiet-hb', { skipOrderCancellation: true });
  }, 60_000);
});
