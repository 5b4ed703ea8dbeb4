import Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { privateDatabase } from '../helpers/config.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/wait.js';
import { ROOT } from './dist.js';

/**
 * Builds the user-facing ./Dockerfile for real (scripts/build-dockerfile-check.sh: with no registry it
 * first makes a local stand-in for node:20-slim from the Debian mirror) and checks the image: it runs
 * as the unprivileged uid 10001, `--version` and the `bot` entrypoint answer, and `serve` starts
 * against Postgres and answers /health. Minutes of work (the stand-in about 2, the build about 2 more
 * with npm ci from the registry), so it runs only with DOCKERFILE_BUILD=1.
 */
const run = promisify(execFile);
const ENABLED = process.env.DOCKERFILE_BUILD === '1';
const TAG = process.env.DOCKERFILE_IMAGE_TAG ?? 'tradedesk:dockerfile';
const docker = new Docker();

async function dockerRun(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('docker', ['run', '--rm', ...args], { maxBuffer: 16 << 20 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
}

describe.skipIf(!ENABLED)('the Dockerfile, built for real', () => {
  let db: { url: string; drop(): Promise<void> };
  const name = `tradedesk-dockerfile-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    const started = Date.now();
    const { stdout, stderr } = await run('bash', [join(ROOT, 'scripts', 'build-dockerfile-check.sh'), TAG], { cwd: ROOT, maxBuffer: 64 << 20, timeout: 1_500_000 });
    console.log(`${stderr.trim()}\n${stdout.trim()} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
    db = await privateDatabase(process.env.DATABASE_URL!, 'tdimg');
  }, 1_600_000);
  afterAll(async () => {
    await docker.getContainer(name).remove({ force: true }).catch(() => {});
    await db?.drop();
  });

  it('runs as the unprivileged user 10001, with no shell for it', async () => {
    const info = await docker.getImage(TAG).inspect();
    expect(info.Config.User).toBe('tradedesk');
    expect(info.Config.Entrypoint).toEqual(['node', '/app/dist/main.js']);
    expect(info.Config.Cmd).toEqual(['serve']);
    const id = await dockerRun(['--entrypoint', 'id', TAG]);
    expect(id.stdout.trim()).toBe('uid=10001(tradedesk) gid=10001(tradedesk) groups=10001(tradedesk)');
    const passwd = await dockerRun(['--entrypoint', 'getent', TAG, 'passwd', 'tradedesk']);
    expect(passwd.stdout.trim()).toBe('tradedesk:x:10001:10001::/state:/usr/sbin/nologin');
    console.log(`${TAG}: ${(info.Size / 1e6).toFixed(0)} MB`);
  });

  it('answers --version, and `bot` without a launch spec says what it needs', async () => {
    const v = await dockerRun(['--network', 'host', TAG, '--version']);
    expect(v.code).toBe(0);
    // The CLI writes its version on stderr.
    expect((v.stdout + v.stderr).trim()).toBe(VERSION);
    const bot = await dockerRun([TAG, 'bot']);
    expect(bot.code).toBe(2);
    expect(bot.stderr).toContain('TRADEDESK_BOT is not set');
  });

  it('serves: started against Postgres, it answers /health with the database ok', async () => {
    const port = await freePort();
    await run('docker', [
      'run', '-d', '--name', name, '--network', 'host',
      '-e', `DATABASE_URL=${db.url}`, '-e', 'API_USERNAME=admin', '-e', `API_PASSWORD=${randomBytes(12).toString('hex')}`,
      '-e', `PORT=${port}`, '-e', `MQTT_PORT=${await freePort()}`,
      TAG, 'serve',
    ]);
    const health = await waitFor(
      'the server in the image to answer /health',
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        return res?.status === 200 ? ((await res.json()) as { database?: string }) : undefined;
      },
      { timeoutMs: 60_000, everyMs: 500 },
    );
    expect(health.database).toBe('ok');
    const top = (await docker.getContainer(name).top({ ps_args: '-o pid,uid,comm' })) as { Titles: string[]; Processes: string[][] };
    const uid = top.Titles.indexOf('UID');
    expect(top.Processes.length).toBeGreaterThan(0);
    expect(top.Processes.map((p) => p[uid])).toEqual(top.Processes.map(() => '10001'));
  }, 90_000);

  it('as the compose file runs it (uid 10001, the socket by its group, DATA_DIR a volume), starts a docker bot that reports in', async () => {
    const volume = `${name}-data`;
    const server = `${name}-compose`;
    const port = await freePort();
    const password = randomBytes(12).toString('hex');
    const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    const socketGid = String((await import('node:fs')).statSync('/var/run/docker.sock').gid);
    const dataRoot = ((await docker.info()) as { DockerRootDir: string }).DockerRootDir;
    const botDb = await privateDatabase(process.env.DATABASE_URL!, 'tdimgbot');
    await docker.createVolume({ Name: volume });
    try {
      // Host networking stands in for the compose network: the embedded broker on the container's
      // 127.0.0.1 is then the host's, where the bots (host network too) connect.
      await run('docker', [
        'run', '-d', '--name', server, '--network', 'host', '--group-add', socketGid,
        '-v', `${volume}:/data`, '-v', '/var/run/docker.sock:/var/run/docker.sock',
        '-e', `DATABASE_URL=${botDb.url}`, '-e', 'API_USERNAME=admin', '-e', `API_PASSWORD=${password}`,
        '-e', `PORT=${port}`, '-e', `MQTT_PORT=${await freePort()}`,
        '-e', `BOT_IMAGE=${TAG}`, '-e', `BOT_STATE_HOST_DIR=${dataRoot}/volumes/${volume}/_data/bots`,
        TAG, 'serve',
      ]);
      await waitFor('the server in the image to answer /health', async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200, { timeoutMs: 60_000, everyMs: 500 });
      const botId = `img-${randomBytes(3).toString('hex')}`;
      const deploy = await fetch(`http://127.0.0.1:${port}/bot-orchestration/deploy`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ bot_id: botId, account_name: 'master_account', runtime: 'docker', controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '200' } }] }),
      });
      expect(deploy.status, await deploy.clone().text()).toBe(201);
      const bot = await docker.getContainer(`tradedesk-bot-${botId}`).inspect();
      expect(bot.Config.Image).toBe(TAG);
      expect(bot.Config.User).toBe('10001:10001');
      expect(bot.Mounts.map((m) => m.Source)).toEqual([`${dataRoot}/volumes/${volume}/_data/bots/${botId}`]);
      const status = await waitFor(
        'the bot to send a heartbeat',
        async () => {
          const b = ((await (await fetch(`http://127.0.0.1:${port}/bot-orchestration/bots/${botId}/status`, { headers: { authorization: auth } })).json()) as { bot: { observed_state: string; last_heartbeat_at: string | null } }).bot;
          return b.last_heartbeat_at ? b : undefined;
        },
        { timeoutMs: 30_000, everyMs: 500 },
      );
      expect(status.observed_state).toBe('running');
      const stop = await fetch(`http://127.0.0.1:${port}/bot-orchestration/bots/${botId}/stop`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: '{}' });
      expect(stop.status).toBe(200);
      await docker.getContainer(`tradedesk-bot-${botId}`).remove({ force: true }).catch(() => {});
    } finally {
      await docker.getContainer(server).remove({ force: true }).catch(() => {});
      const left = await docker.listContainers({ all: true, filters: { label: ['tradedesk.managed=true'], volume: [volume] } }).catch(() => []);
      for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
      await docker.getVolume(volume).remove().catch(() => {});
      await botDb.drop();
    }
  }, 180_000);
});
