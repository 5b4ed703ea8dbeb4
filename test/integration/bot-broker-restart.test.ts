import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../src/app/services.js';
import { createLogger } from '../../src/core/logger.js';
import { ensureBuilt } from '../e2e/dist.js';
import { mosquittoInstall, startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { drivers, testEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A real bot trading through the server while the broker (an external Mosquitto) crashes and comes
 * back: the bot and the server reconnect by themselves, the bot carries on trading, and every fill the
 * account got from the bot's orders is in the bot's fills, once: what it sent while the server was not
 * listening is asked for again (its `history`) when the server's connection comes back.
 */
const install = mosquittoInstall();
const ADMIN_OWNER = { name: 'admin', role: 'admin' as const, accounts: null, stored: false };

describe.skipIf(!install).each(drivers())('bots across a broker restart (%s)', (driver) => {
  let env: TestEnv;
  let mosquitto: RunningMosquitto;
  let services: Services;

  beforeAll(async () => {
    const main = await ensureBuilt();
    mosquitto = await startMosquitto(install!);
    env = await testEnv(driver, { mqttUrl: `mqtt://${mosquitto.admin.username}:${mosquitto.admin.password}@127.0.0.1:${mosquitto.port}` });
    services = (
      await createServices(env.config, createLogger('silent'), {
        bots: { command: () => [process.execPath, main, 'bot'], runtimes: { docker: undefined }, orchestrator: { rpcTimeoutMs: 3_000, readyTimeoutMs: 20_000, stopGraceMs: 5_000 }, ingest: { flushMs: 50, knownTtlMs: 100 } },
      })
    ).services;
  }, 120_000);
  afterAll(async () => {
    await services?.close();
    await mosquitto?.stop();
    await env?.cleanup();
  });

  it('keeps trading after the broker crashes, and loses no fill', async () => {
    const strategy = { script: { name: 'twap_buyer_v1', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '600', duration: 60, interval: 1 } } };
    const bot = await services.bots.deploy({ id: 'twap-mq', accountName: 'master_account', owner: ADMIN_OWNER, channel: 'rest', runtime: 'child', strategy });
    expect(bot.observedState).toBe('running');

    // What the account filled for the bot's orders, from the server's own ledger.
    const ledger = async () => {
      const orders = await services.trading.list({ account_name: 'master_account', status: 'filled', limit: 500 });
      return orders.data.map((o) => o.clientOrderId).filter((c): c is string => !!c).sort();
    };
    const botFills = async () => (await services.bots.fills('twap-mq', { limit: 500 })).data.map((f) => f.clientOrderId).sort();

    await waitFor('a few fills', async () => ((await ledger()).length >= 3 ? true : undefined), { timeoutMs: 20_000 });
    // Crash the broker right after an order was filled, when its fill event is on its way.
    const before = (await ledger()).length;
    await waitFor('the next fill', async () => ((await ledger()).length > before ? true : undefined), { timeoutMs: 10_000, everyMs: 5 });
    await mosquitto.restart({ downMs: 2_000 });

    // Both reconnect, and it trades on.
    const afterRestart = (await ledger()).length;
    await waitFor('fills after the restart', async () => ((await ledger()).length >= afterRestart + 3 ? true : undefined), { timeoutMs: 30_000 });
    expect((await services.bots.get('twap-mq'))!.observedState).toBe('running');

    await services.bots.stop('twap-mq', { skipOrderCancellation: false });
    const filled = await ledger();
    await waitFor('every fill in the bot\'s fills', async () => (JSON.stringify(await botFills()) === JSON.stringify(filled) ? true : undefined), { timeoutMs: 15_000 });
    const fills = await botFills();
    expect(fills).toEqual(filled);
    expect(new Set(fills).size).toBe(fills.length);
  }, 150_000);
});
