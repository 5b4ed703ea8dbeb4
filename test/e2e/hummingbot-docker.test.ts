import Docker from 'dockerode';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BOT_LABEL, containerName, KIND_LABEL, MANAGED_LABEL } from '../../src/core/bots/docker-runtime.js';
import { dockerAnswers } from '../helpers/docker.js';
import { ensureFakeHummingbotImage, FAKE_HUMMINGBOT_IMAGE } from '../helpers/hummingbot-image.js';
import { testServer, type TestServer, okBody as ok } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A real server deploying a Hummingbot image on the real Docker daemon, with the real broker: the
 * image is the fake Hummingbot built here (test/fixtures/fake-hummingbot-image), which starts only
 * with a valid instance folder and then speaks and answers as a recorded Hummingbot v2.16 does.
 * Deploy → running with heartbeats and performance stored → status derived by the server → a config
 * change rewrites the controller file (and the bot reloads it) → stop (stop RPC, then the container) →
 * start (the container again) → archive.
 */

const docker = new Docker();
const dockerWhy = process.env.DOCKER_AVAILABLE !== '1' ? 'DOCKER_AVAILABLE is not 1' : (await dockerAnswers(docker)) ? null : 'no Docker daemon answers';
const PMM = { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '200', buy_spreads: [0.01], sell_spreads: [0.01] };
const ID = 'hb-e2e';

describe.skipIf(dockerWhy)('a Hummingbot image under the orchestrator, on Docker', () => {
  let s: TestServer;
  const instance = () => join(s.env.config.dataDir, 'bots', ID);
  const logs = async () => ok(await s.call('GET', `/bot-orchestration/bots/${ID}/logs?limit=200`)).logs as Array<{ message: string; level: string }>;

  beforeAll(async () => {
    await ensureFakeHummingbotImage(docker);
    await docker.getContainer(containerName(ID)).remove({ force: true }).catch(() => undefined);
    s = await testServer('postgres', { toolsets: 'bots' }, { bots: { orchestrator: { rpcTimeoutMs: 5_000, stopGraceMs: 5_000, readyTimeoutMs: 30_000 }, ingest: { flushMs: 50, knownTtlMs: 100 } } });
    // An admin allows Hummingbot's images first: any other image than the server's is refused otherwise.
    ok(await s.call('PUT', '/docker/allowed-images', { patterns: ['hummingbot/hummingbot:*'] }));
    ok(await s.call('POST', '/accounts', { account_name: 'hb_desk', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '100000', BTC: '1' } }] }), 201);
  }, 300_000);
  afterAll(async () => {
    await s?.stop();
    await docker.getContainer(containerName(ID)).remove({ force: true }).catch(() => undefined);
  });

  it('refuses a script on a Hummingbot image, naming the field', async () => {
    const r = await s.call('POST', '/scripts/run', { bot_id: 'hb-script', account_name: 'hb_desk', image: FAKE_HUMMINGBOT_IMAGE, script_name: 'twap_buyer_v1', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '3000', duration: 600, interval: 1 } });
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.details.issues).toEqual([{ path: 'script', message: expect.stringMatching(/runs controllers/) }]);
    expect(await docker.getContainer(containerName('hb-script')).inspect().catch((e: { statusCode?: number }) => e.statusCode)).toBe(404);
  });

  it('deploy → heartbeats and performance → derived status → config by file → stop → start by container → archive', async () => {
    const deployed = ok(await s.call('POST', '/bot-orchestration/deploy', { bot_id: ID, account_name: 'hb_desk', image: FAKE_HUMMINGBOT_IMAGE, controllers: [{ controller_name: 'pmm_simple', config: PMM }] }), 201);
    expect(deployed.bot).toMatchObject({ runtime: 'docker', image: FAKE_HUMMINGBOT_IMAGE, observed_state: 'running' });

    // The instance folder as Hummingbot reads it, and the container as it must run.
    const conf = parse(readFileSync(join(instance(), 'conf/conf_client.yml'), 'utf8'));
    expect(conf).toMatchObject({ instance_id: ID, mqtt_bridge: { mqtt_username: `bot-${ID}`, mqtt_namespace: 'hbot', mqtt_autostart: true } });
    expect(parse(readFileSync(join(instance(), `conf/scripts/${ID}.yml`), 'utf8'))).toEqual({ script_file_name: 'v2_with_controllers.py', controllers_config: ['pmm_simple.yml'] });
    const info = await docker.getContainer(containerName(ID)).inspect();
    const configPassword = readFileSync(join(instance(), '.config-password'), 'utf8');
    expect(info.Config.Env).toEqual(expect.arrayContaining([`CONFIG_PASSWORD=${configPassword}`, `SCRIPT_CONFIG=${ID}.yml`, 'HEADLESS_MODE=true']));
    expect(info.Config.Labels).toMatchObject({ [MANAGED_LABEL]: 'true', [BOT_LABEL]: ID, [KIND_LABEL]: 'hummingbot' });
    expect(info.HostConfig).toMatchObject({ NetworkMode: 'host', Privileged: false, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges:true'] });
    expect(info.Mounts.map((m) => m.Destination).sort()).toEqual(['conf', 'conf/connectors', 'conf/controllers', 'conf/scripts', 'data', 'logs'].map((d) => `/home/hummingbot/${d}`));
    expect(info.Mounts.some((m) => (m.Source ?? '').includes('docker.sock'))).toBe(false);

    // Fills, heartbeats and performance are stored by separate writers: under load a fill may land after
    // the performance reports that followed it, so all three are awaited.
    await waitFor('a heartbeat, performance reports and the fills stored', async () => {
      const bot = ok(await s.call('GET', `/bot-orchestration/bots/${ID}/status`)).bot;
      const perf = ok(await s.call('GET', `/bot-orchestration/bots/${ID}/performance?limit=50`));
      const history = ok(await s.call('GET', `/bot-orchestration/bots/${ID}/history`));
      return bot.last_heartbeat_at && perf.performance.length >= 2 && history.data.length >= 2 ? true : undefined;
    }, { timeoutMs: 20_000 });
    const fills = ok(await s.call('GET', `/bot-orchestration/bots/${ID}/history`));
    expect(fills.data.length).toBe(2);

    const status = ok(await s.call('GET', `/bot-orchestration/bots/${ID}/status`));
    expect(status.reported_by).toBe('server');
    expect(status.reported).toMatchObject({ derived: true, state: 'running', container_running: true, strategy_reporting: true, controllers: [{ controller_id: 'pmm_simple', volume_traded: 300.585 }] });
    expect(JSON.stringify(status)).not.toContain(configPassword);

    const changed = ok(await s.call('PUT', `/bot-orchestration/bots/${ID}/config`, { bot_id: ID, controllers: [{ controller_name: 'pmm_simple', config: { total_amount_quote: '300' } }] }));
    expect(changed).toMatchObject({ applied: 'files', files: ['conf/controllers/pmm_simple.yml'] });
    expect(parse(readFileSync(join(instance(), 'conf/controllers/pmm_simple.yml'), 'utf8'))).toMatchObject({ id: 'pmm_simple', controller_name: 'pmm_simple', controller_type: 'market_making', total_amount_quote: '300' });
    await waitFor('the bot reloading its controller file', async () => ((await logs()).some((l) => l.message.startsWith('Reloaded controller config pmm_simple') && l.message.includes('"300"')) ? true : undefined), { timeoutMs: 15_000 });

    const stopped = ok(await s.call('POST', `/bot-orchestration/bots/${ID}/stop`, {}));
    expect(stopped.bot).toMatchObject({ desired_state: 'stopped', observed_state: 'stopped' });
    expect((await docker.getContainer(containerName(ID)).inspect()).State.Running).toBe(false);
    const [run] = ok(await s.call('GET', `/bot-orchestration/bots/${ID}/runs`)).runs;
    expect(run).toMatchObject({ status: 'stopped' });
    await waitFor('its stop logs', async () => ((await logs()).some((l) => l.message === 'Hummingbot stopped.') ? true : undefined), { timeoutMs: 10_000 });
    const idle = ok(await s.call('GET', `/bot-orchestration/bots/${ID}/status`));
    expect(idle.reported).toMatchObject({ derived: true, state: 'not_running', container_running: false });

    const started = ok(await s.call('POST', `/bot-orchestration/bots/${ID}/start`, {}));
    expect(started.bot).toMatchObject({ desired_state: 'running', observed_state: 'running' });
    const again = await docker.getContainer(containerName(ID)).inspect();
    expect(again.State.Running).toBe(true);
    expect(again.Id).not.toBe(info.Id);
    expect((await logs()).some((l) => l.message.startsWith('Start: its container was started again'))).toBe(true);
    // The changed config went with it: the new container read the rewritten file.
    expect(parse(readFileSync(join(instance(), 'conf/controllers/pmm_simple.yml'), 'utf8')).total_amount_quote).toBe('300');

    // Import fails on every headless Hummingbot: refused here, nothing sent, never a false success.
    await expect(s.services.bots.importStrategy(ID, 'my_strategy')).rejects.toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringMatching(/Nothing was sent/) });

    const archived = ok(await s.call('POST', `/bot-orchestration/bots/${ID}/archive`, {}));
    expect(archived.bot.archived_at).not.toBeNull();
    expect(await docker.getContainer(containerName(ID)).inspect().catch((e: { statusCode?: number }) => e.statusCode)).toBe(404);
  }, 180_000);

  it('the fake refuses to start, as Hummingbot does, when SCRIPT_CONFIG names no file', async () => {
    expect(existsSync(join(instance(), 'conf/.password_verification'))).toBe(true);
    const configPassword = readFileSync(join(instance(), '.config-password'), 'utf8');
    const c = await docker.createContainer({ Image: FAKE_HUMMINGBOT_IMAGE, Env: [`CONFIG_PASSWORD=${configPassword}`, 'SCRIPT_CONFIG=missing.yml', 'HEADLESS_MODE=true'], HostConfig: { Binds: [`${join(instance(), 'conf')}:/home/hummingbot/conf:ro`], NetworkMode: 'none' } });
    try {
      await c.start();
      const { StatusCode } = (await c.wait()) as { StatusCode: number };
      const out = (await c.logs({ stdout: true, stderr: true })).toString('utf8');
      expect(StatusCode).toBe(1);
      expect(out).toContain("No such file or directory: '/home/hummingbot/conf/scripts/missing.yml'");
    } finally {
      await c.remove({ force: true });
    }
  }, 60_000);
});
