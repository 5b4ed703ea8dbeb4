import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type ServiceOptions, type Services } from '../../src/app/services.js';
import { containerName, demuxLogLines } from '../../src/core/bots/docker-runtime.js';
import type { BotStrategy } from '../../src/core/db/schema/index.js';
import { createLogger } from '../../src/core/logger.js';
import { dockerAnswers, ensureBotImage } from '../helpers/docker.js';
import { freePort } from '../helpers/free-port.js';
import { drivers, testEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A docker bot across a server restart, with the real orchestrator: its container keeps running while
 * no server runs, the next server takes it back (no second container, no new run) and watches it again,
 * so that its crash afterwards is seen at once as an error with its exit code.
 */
const docker = new Docker();
const up = process.env.DOCKER_AVAILABLE === '1' && (await dockerAnswers(docker));
if (!up) console.warn('skipping the docker restore test: DOCKER_AVAILABLE is not 1 or no Docker daemon answers');
const ADMIN_OWNER = { name: 'admin', role: 'admin' as const, accounts: null, stored: false };
const BOT = `dkr-${process.pid % 100000}`;

describe.skipIf(!up).each(drivers())('a docker bot across a server restart (%s)', (driver) => {
  let env: TestEnv;
  let services: Services | undefined;
  let options: ServiceOptions;
  const strategy: BotStrategy = { controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '100', buy_spreads: [0.01], sell_spreads: [0.01] } }] };
  const open = async () => (await createServices(env.config, createLogger('silent'), options)).services;

  beforeAll(async () => {
    const image = await ensureBotImage();
    // A broker port that stays: the container, taken back, connects again where its spec says.
    env = await testEnv(driver, { mqttPort: await freePort() });
    options = { bots: { image, orchestrator: { rpcTimeoutMs: 3_000, stopGraceMs: 5_000 }, ingest: { flushMs: 50, knownTtlMs: 100 } } };
    services = await open();
  }, 400_000);
  afterAll(async () => {
    await services?.close();
    await docker.getContainer(containerName(BOT)).remove({ force: true }).catch(() => undefined);
    await env?.cleanup();
  });

  it('keeps running while no server runs, is taken back by the next one, and its crash is then seen', async () => {
    const bot = await services!.bots.deploy({ id: BOT, accountName: 'master_account', owner: ADMIN_OWNER, channel: 'rest', runtime: 'docker', strategy });
    expect(bot).toMatchObject({ runtime: 'docker', observedState: 'running' });
    const before = await docker.getContainer(containerName(BOT)).inspect();

    await services!.close();
    services = undefined;
    expect((await docker.getContainer(containerName(BOT)).inspect()).State.Running).toBe(true);
    services = await open();
    await waitFor('the bot to be taken back', async () => ((await services!.bots.logs(BOT, { limit: 50 })).some((l) => l.message.startsWith('Taken back after a server restart')) ? true : undefined), { timeoutMs: 15_000 });
    const after = await docker.getContainer(containerName(BOT)).inspect();
    expect(after.Id).toBe(before.Id);
    expect((await services.bots.runs(BOT)).map((r) => r.status)).toEqual(['running']);
    // It answers through the new server's bus once it reconnected.
    const st = await waitFor('its status answer', () => services!.bots.status(BOT).then((s) => s.live ?? undefined, () => undefined), { timeoutMs: 20_000, everyMs: 500 }).catch(async (e) => {
      // What the container said is the first thing to read when it never answers.
      console.log(demuxLogLines((await docker.getContainer(containerName(BOT)).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer).slice(-40).join('\n'));
      console.log(JSON.stringify(await services!.bots.get(BOT)));
      throw e;
    });
    expect(st).toMatchObject({ msg: 'running' });

    // Watched again: a crash is recorded as such, with its exit code (SIGKILL: 137).
    await docker.getContainer(containerName(BOT)).kill({ signal: 'SIGKILL' });
    await waitFor('the crash to be recorded', async () => ((await services!.bots.get(BOT))!.observedState === 'error' ? true : undefined), { timeoutMs: 5_000, everyMs: 100 });
    const [run] = await services.bots.runs(BOT);
    expect(run).toMatchObject({ status: 'error' });
    expect((await services.bots.logs(BOT, { limit: 50 })).map((l) => l.message)).toContain("The bot's process ended on its own (signal SIGKILL).");
  }, 120_000);
});
