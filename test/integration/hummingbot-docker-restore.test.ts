import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type ServiceOptions, type Services } from '../../src/app/services.js';
import { containerName } from '../../src/core/bots/docker-runtime.js';
import type { BotStrategy } from '../../src/core/db/schema/index.js';
import { createLogger } from '../../src/core/logger.js';
import { dockerAnswers } from '../helpers/docker.js';
import { freePort } from '../helpers/free-port.js';
import { ensureFakeHummingbotImage, FAKE_HUMMINGBOT_IMAGE } from '../helpers/hummingbot-image.js';
import { drivers, testEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A Hummingbot container across a server restart, with the real orchestrator and the fake Hummingbot
 * image: it keeps running while no server runs, the next server takes it back (same container, same
 * run), its status is then derived from its renewed heartbeats and reports, and its death afterwards
 * is seen at once as an error with its exit, not hidden behind a derived "running".
 */
const docker = new Docker();
const up = process.env.DOCKER_AVAILABLE === '1' && (await dockerAnswers(docker));
if (!up) console.warn('skipping the Hummingbot restore test: DOCKER_AVAILABLE is not 1 or no Docker daemon answers');
const ADMIN_OWNER = { name: 'admin', role: 'admin' as const, accounts: null, stored: false };
const BOT = `hbr-${process.pid % 100000}`;

describe.skipIf(!up).each(drivers())('a Hummingbot container across a server restart (%s)', (driver) => {
  let env: TestEnv;
  let services: Services | undefined;
  let options: ServiceOptions;
  const strategy: BotStrategy = { controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '100', buy_spreads: [0.01], sell_spreads: [0.01] } }] };
  const open = async () => (await createServices(env.config, createLogger('silent'), options)).services;

  beforeAll(async () => {
    await ensureFakeHummingbotImage(docker);
    // A broker port that stays: the container reconnects where its conf_client.yml says.
    env = await testEnv(driver, { mqttPort: await freePort() });
    options = { bots: { orchestrator: { rpcTimeoutMs: 3_000, stopGraceMs: 5_000 }, ingest: { flushMs: 50, knownTtlMs: 100 } } };
    services = await open();
  }, 300_000);
  afterAll(async () => {
    await services?.close();
    await docker.getContainer(containerName(BOT)).remove({ force: true }).catch(() => undefined);
    await env?.cleanup();
  });

  it('is taken back by the next server, reports again, and its death is then an error', async () => {
    // An admin allows the image first (any image other than the server's is refused otherwise).
    await services!.allowedImages.replace(['hummingbot/hummingbot:*'], 'admin');
    const bot = await services!.bots.deploy({ id: BOT, accountName: 'master_account', owner: ADMIN_OWNER, channel: 'rest', runtime: 'docker', image: FAKE_HUMMINGBOT_IMAGE, strategy });
    expect(bot).toMatchObject({ runtime: 'docker', observedState: 'running' });
    const before = await docker.getContainer(containerName(BOT)).inspect();

    await services!.close();
    services = undefined;
    expect((await docker.getContainer(containerName(BOT)).inspect()).State.Running).toBe(true);
    const reopenedAt = Date.now();
    services = await open();
    await waitFor('the bot to be taken back', async () => ((await services!.bots.logs(BOT, { limit: 50 })).some((l) => l.message.startsWith('Taken back after a server restart')) ? true : undefined), { timeoutMs: 15_000 });
    expect((await docker.getContainer(containerName(BOT)).inspect()).Id).toBe(before.Id);
    expect((await services.bots.runs(BOT)).map((r) => r.status)).toEqual(['running']);

    // Reconnected (its bridge retries every 5 s): reports reach the new server, and its status says so, derived.
    await waitFor('reports to the new server', async () => ((await services!.bots.performance(BOT, { limit: 5, from: new Date(reopenedAt) })).length > 0 ? true : undefined), { timeoutMs: 20_000, everyMs: 500 });
    const st = await services.bots.status(BOT);
    expect(st.liveSource).toBe('derived');
    expect(st.live).toMatchObject({ derived: true, container_running: true, strategy_reporting: true });

    await docker.getContainer(containerName(BOT)).kill();
    await waitFor('the kill recorded', async () => ((await services!.bots.get(BOT))!.observedState === 'error' ? true : undefined), { timeoutMs: 15_000 });
    const dead = await services.bots.status(BOT);
    expect(dead.live).toMatchObject({ derived: true, state: 'not_running', container_running: false, strategy_reporting: false });
    expect(dead.crash).not.toBeNull();
    expect((await services.bots.runs(BOT))[0]).toMatchObject({ status: 'error' });
  }, 120_000);
});
