import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerName, MANAGED_LABEL } from '../../src/core/bots/docker-runtime.js';
import { dockerAnswers, ensureBotImage, TEST_IMAGE } from '../helpers/docker.js';
import { fakeRegistry } from '../helpers/fake-registry.js';
import { rawRequest } from '../helpers/raw-http.js';
import { ADMIN_AUTH, basicHeader, testServer, type TestServer, okBody as ok } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';
import { ensureBuilt } from './dist.js';

/**
 * The Docker management routes on a real server and a real Docker daemon: the bot image built from this
 * repository (tradedesk:local, or IMAGE_TAG), bots in containers, containers made here with dockerode to
 * play one that failed and one this server did not create. Every container made here is removed after.
 * With DOCKER_AVAILABLE=1 (CI) a daemon that does not answer fails this file instead of skipping it.
 */

const docker = new Docker();
const promised = process.env.DOCKER_AVAILABLE === '1';
const up = await dockerAnswers(docker);
if (promised && !up) throw new Error('DOCKER_AVAILABLE=1 but no Docker daemon answers: run scripts/services.sh (it installs and starts dockerd)');
if (!up) console.warn('skipping the docker API tests: no Docker daemon answers');

/** Every bot and container of this run carries it, so that the cleanup touches nothing else. */
const RUN = `dapi${randomBytes(3).toString('hex')}`;
const NODE = '/usr/bin/node';
const TRADER = basicHeader('dapi_trader', 'dapi-trader-password');
const VIEWER = basicHeader('dapi_viewer', 'dapi-viewer-password');
const PMM = { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '200', buy_spreads: [0.01], sell_spreads: [0.01] };
const issuePaths = (body: { error?: { details?: { issues?: Array<{ path: string }> } } }) => (body.error?.details?.issues ?? []).map((i) => i.path);

/** A container from the bot image running `node -e script`, with the labels given (none: not ours). */
async function scriptContainer(name: string, script: string, labels: Record<string, string> = {}): Promise<Docker.Container> {
  const c = await docker.createContainer({ name, Image: TEST_IMAGE, Entrypoint: [NODE, '-e', script], Cmd: [], Labels: labels, HostConfig: { NetworkMode: 'none', CapDrop: ['ALL'], Init: true } });
  await c.start();
  return c;
}

describe.skipIf(!up)('the Docker management routes, on a real server and daemon', () => {
  let s: TestServer;
  /** A registry that accepts connections and never answers. */
  let silentRegistry: Server;
  const held: Socket[] = [];

  beforeAll(async () => {
    const main = await ensureBuilt();
    // Before the server starts: the build blocks this process.
    await ensureBotImage();
    s = await testServer('postgres', {}, {
      bots: {
        command: [process.execPath, main, 'bot'],
        image: TEST_IMAGE,
        orchestrator: { rpcTimeoutMs: 5_000, stopGraceMs: 5_000 },
        ingest: { flushMs: 50, knownTtlMs: 100 },
      },
      docker: { pullIdleTimeoutMs: 3_000 },
    });
    ok(await s.call('POST', '/accounts', { account_name: 'dapi_desk', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '100000', BTC: '1' } }] }), 201);
    ok(await s.call('POST', '/users', { username: 'dapi_trader', password: 'dapi-trader-password', role: 'trader' }), 201);
    ok(await s.call('POST', '/users', { username: 'dapi_viewer', password: 'dapi-viewer-password', role: 'viewer' }), 201);
    silentRegistry = createServer((sock) => held.push(sock));
    await new Promise<void>((r) => silentRegistry.listen(0, '127.0.0.1', r));
  }, 400_000);

  afterAll(async () => {
    await s?.stop();
    for (const sock of held) sock.destroy();
    silentRegistry?.close();
    const mine = await docker.listContainers({ all: true });
    for (const c of mine.filter((c) => c.Names.some((n) => n.includes(RUN)))) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  });

  it('says the daemon runs and lists the bot image', async () => {
    const running = ok(await s.call('GET', '/docker/running'));
    expect(running.running).toBe(true);
    expect(typeof running.version).toBe('string');
    const images = ok(await s.call('GET', `/docker/available-images?image_name=${encodeURIComponent(TEST_IMAGE.split(':')[0]!)}`));
    expect(images.data.some((i: { tags: string[] }) => i.tags.includes(TEST_IMAGE))).toBe(true);
    expect(images.data.every((i: { tags: string[] }) => i.tags.some((t) => t.includes(TEST_IMAGE.split(':')[0]!)))).toBe(true);
    expect(ok(await s.call('GET', '/docker/available-images?image_name=no-such-image-anywhere')).data).toEqual([]);
  });

  it("a bot's container: listed, stopped and started as the bot, removed with the bot archived and its records readable", async () => {
    const id = `${RUN}-life`;
    const name = containerName(id);
    const deployed = ok(await s.call('POST', '/bot-orchestration/deploy', { bot_id: id, account_name: 'dapi_desk', runtime: 'docker', controllers: [{ controller_name: 'pmm_simple', config: PMM }] }), 201);
    expect(deployed.bot).toMatchObject({ runtime: 'docker', observed_state: 'running' });

    const active = ok(await s.call('GET', `/docker/active-containers?name_filter=${id}`)).data;
    expect(active).toEqual([expect.objectContaining({ name, state: 'running', managed: true, bot_id: id, exit_code: null, image: TEST_IMAGE })]);

    const stopped = ok(await s.call('POST', `/docker/stop-container/${name}`, {}));
    expect(stopped.container).toMatchObject({ name, state: 'exited', exit_code: 0 });
    expect(ok(await s.call('GET', `/bot-orchestration/bots/${id}/status`)).bot).toMatchObject({ desired_state: 'stopped', observed_state: 'stopped', exit_code: 0 });
    const exited = ok(await s.call('GET', `/docker/exited-containers?name_filter=${id}`)).data;
    expect(exited).toEqual([expect.objectContaining({ name, state: 'exited', exit_code: 0, bot_id: id })]);
    expect(Array.isArray(exited[0].last_logs)).toBe(true);
    expect(ok(await s.call('GET', `/docker/active-containers?name_filter=${id}`)).data).toEqual([]);

    const started = ok(await s.call('POST', `/docker/start-container/${name}`, {}));
    expect(started.container).toMatchObject({ name, state: 'running' });
    expect(ok(await s.call('GET', `/bot-orchestration/bots/${id}/status`)).bot).toMatchObject({ desired_state: 'running', observed_state: 'running' });
    // Its output, which the removal keeps: the bot has written its first lines once it reported itself online.
    await waitFor('the bot to write to its container log', async () => ((await docker.getContainer(name).logs({ stdout: true, stderr: true, follow: false })).length > 0 ? true : undefined));

    const removed = ok(await s.call('POST', `/docker/remove-container/${name}`, {}));
    expect(removed).toMatchObject({ archived_bot: id, container: { name, state: 'removed', exit_code: 0, bot_id: id } });
    expect(removed.container.last_logs.length).toBeGreaterThan(0);
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });

    // Everything stays readable through the bot routes: archived, its runs closed with their exit codes, its container's last lines in its log.
    const bot = ok(await s.call('GET', `/bot-orchestration/bots/${id}/status`)).bot;
    expect(bot).toMatchObject({ archived: true, desired_state: 'stopped', observed_state: 'stopped', exit_code: 0 });
    const runs = ok(await s.call('GET', `/bot-orchestration/bots/${id}/runs`)).runs;
    expect(runs.map((r: { status: string; exit_code: number | null }) => [r.status, r.exit_code])).toEqual([
      ['stopped', 0],
      ['stopped', 0],
    ]);
    const logs = ok(await s.call('GET', `/bot-orchestration/bots/${id}/logs?limit=500`)).logs as Array<{ logger: string | null; message: string }>;
    expect(logs.filter((l) => l.logger === 'container.output').length).toBeGreaterThan(0);
    expect(logs.some((l) => l.logger === 'server' && l.message.startsWith(`Container ${name} removed by admin: its container ended with exit code 0`))).toBe(true);
    // Its broker login went with it: a start is refused, the bot is archived.
    expect((await s.call('POST', `/bot-orchestration/bots/${id}/start`, {})).status).toBe(409);
    expect(ok(await s.call('GET', `/docker/exited-containers?name_filter=${id}`)).data).toEqual([]);
  }, 180_000);

  it('a container that exited with an error is listed with its exit code and last log lines', async () => {
    const name = `${RUN}-crash`;
    const c = await scriptContainer(name, 'console.log("loading config"); console.error("fatal: no such strategy"); process.exit(3)', { [MANAGED_LABEL]: 'true' });
    await c.wait();
    // One line on stdout, one on stderr: Docker keeps each stream's order, not their order to each other.
    const lines = expect.toSatisfy((l: string[]) => l.length === 2 && l.includes('loading config') && l.includes('fatal: no such strategy'));
    const exited = ok(await s.call('GET', `/docker/exited-containers?name_filter=${name}`)).data;
    expect(exited).toEqual([expect.objectContaining({ name, state: 'exited', exit_code: 3, managed: true, bot_id: null, last_logs: lines })]);

    // Removing a container of ours that runs no bot archives nothing and answers with what it left.
    const removed = ok(await s.call('POST', `/docker/remove-container/${name}`, {}));
    expect(removed).toMatchObject({ archived_bot: null, container: { name, state: 'removed', exit_code: 3, last_logs: lines } });
    await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 60_000);

  it('a container this server did not create is not listed and not touched, unless the admin asks explicitly', async () => {
    const name = `${RUN}-foreign`;
    const c = await scriptContainer(name, 'setInterval(() => {}, 1000)');
    expect(ok(await s.call('GET', `/docker/active-containers?name_filter=${name}`)).data).toEqual([]);
    expect(ok(await s.call('GET', `/docker/active-containers?name_filter=${name}&include_unmanaged=true`)).data).toEqual([expect.objectContaining({ name, managed: false, bot_id: null, state: 'running' })]);
    for (const verb of ['stop', 'start', 'remove']) {
      const r = await s.call('POST', `/docker/${verb}-container/${name}`, {});
      expect(r.status, r.text).toBe(403);
      expect(r.body.error).toMatchObject({ code: 'POLICY_DENIED' });
      expect(r.body.error.hint).toContain('include_unmanaged');
    }
    expect((await c.inspect()).State.Running).toBe(true);

    const stopped = ok(await s.call('POST', `/docker/stop-container/${name}`, { include_unmanaged: true }));
    expect(stopped.container).toMatchObject({ name, state: 'exited', managed: false });
    const removed = ok(await s.call('POST', `/docker/remove-container/${name}`, { include_unmanaged: true }));
    expect(removed).toMatchObject({ archived_bot: null, container: { name, state: 'removed', managed: false } });
    await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });

    // Removing a running container not ours stops it first and answers with how it ended.
    const running = await scriptContainer(`${RUN}-foreign2`, 'console.log("still here"); setInterval(() => {}, 1000)');
    await waitFor('its first line', async () => ((await running.logs({ stdout: true, stderr: true, follow: false })).length > 0 ? true : undefined));
    const gone = ok(await s.call('POST', `/docker/remove-container/${RUN}-foreign2`, { include_unmanaged: true }));
    expect(gone.container).toMatchObject({ state: 'removed', last_logs: ['still here'] });
    expect(gone.container.exit_code).not.toBeNull();
    await expect(running.inspect()).rejects.toMatchObject({ statusCode: 404 });

    const missing = await s.call('POST', `/docker/stop-container/${RUN}-never-made`, {});
    expect(missing.status, missing.text).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  }, 60_000);

  it('refuses every docker route to a trader and a viewer', async () => {
    const calls: Array<[string, string, unknown?]> = [
      ['GET', '/docker/running'],
      ['GET', '/docker/available-images'],
      ['GET', '/docker/active-containers'],
      ['GET', '/docker/exited-containers'],
      ['POST', '/docker/pull-image', { image_name: 'hummingbot/hummingbot:latest' }],
      ['POST', `/docker/start-container/${RUN}-x`, {}],
      ['POST', `/docker/stop-container/${RUN}-x`, {}],
      ['POST', `/docker/remove-container/${RUN}-x`, {}],
      ['GET', '/docker/allowed-images'],
      ['PUT', '/docker/allowed-images', { patterns: ['evil/*'] }],
    ];
    for (const auth of [TRADER, VIEWER]) {
      for (const [method, path, body] of calls) {
        const r = await s.call(method, path, body, auth);
        expect(r.status, `${method} ${path}: ${r.text}`).toBe(403);
        expect(r.body.error.code).toBe('POLICY_DENIED');
      }
    }
    expect(ok(await s.call('GET', '/docker/allowed-images')).patterns).toEqual([]);
  });

  it('answers bad container names and path tricks with a 400 naming the field', async () => {
    const bad = ['..', '%2E%2E', '.hidden', '-dash', '_under', 'a%2Fb', '..%2F..%2Fcontainers%2Fjson', '%2Fetc', 'a%20b', 'a%00b', 'caf%C3%A9', 'a:b', 'a%5Cb', 'x'.repeat(129)];
    for (const verb of ['start', 'stop', 'remove']) {
      for (const name of bad) {
        const r = await rawRequest(s.url, { method: 'POST', path: `/docker/${verb}-container/${name}`, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: '{}' });
        expect(r.status, `${verb} ${name}: ${JSON.stringify(r.body)}`).toBe(400);
        expect(r.body.error.code).toBe('VALIDATION_FAILED');
        expect(issuePaths(r.body)).toEqual(['name']);
      }
    }
    // A name in the body that differs from the path is refused too.
    const twice = await s.call('POST', `/docker/stop-container/${RUN}-x`, { name: 'other' });
    expect(twice.status, twice.text).toBe(400);
  });

  it('a pull with no registry reachable fails fast as UPSTREAM_UNAVAILABLE with a hint, never hangs', async () => {
    const port = (silentRegistry.address() as { port: number }).port;
    for (const image_name of [`registry.invalid/${RUN}/none:1`, `127.0.0.1:${port}/${RUN}/silent:1`]) {
      const t0 = Date.now();
      const started = ok(await s.call('POST', '/docker/pull-image', { image_name }), 202);
      expect(started.job).toMatchObject({ kind: 'docker_image_pull', input: { image_name } });
      const job = await waitFor(
        `the pull of ${image_name} to end`,
        async () => {
          const j = ok(await s.call('GET', `/jobs/${started.job.job_id}`)).job;
          return ['succeeded', 'failed', 'canceled', 'interrupted'].includes(j.status) ? j : undefined;
        },
        { timeoutMs: 30_000, everyMs: 200 },
      );
      expect(job.status).toBe('failed');
      expect(job.error.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(job.error.hint).toContain('npm run build:image');
      expect(job.error.hint).toContain('docker load');
      expect(Date.now() - t0).toBeLessThan(20_000);
    }
    const bad = await s.call('POST', '/docker/pull-image', { image_name: 'Not An Image' });
    expect(bad.status, bad.text).toBe(400);
    expect(issuePaths(bad.body)).toEqual(['image_name']);
  }, 90_000);

  it('a pull from a reachable registry is a job that ends with each layer of the image', async () => {
    const reg = await fakeRegistry(`${RUN}/tiny`);
    try {
      const started = ok(await s.call('POST', '/docker/pull-image', { image_name: reg.image }), 202);
      const job = await waitFor('the pull to end', async () => {
        const j = ok(await s.call('GET', `/jobs/${started.job.job_id}`)).job;
        return ['succeeded', 'failed', 'canceled', 'interrupted'].includes(j.status) ? j : undefined;
      }, { timeoutMs: 30_000, everyMs: 100 });
      expect(job, JSON.stringify(job)).toMatchObject({ status: 'succeeded', progress: 1, progress_message: `pulled ${reg.image}: 2 layers`, result: { image_name: reg.image, status: 'pulled', digest: reg.manifestDigest } });
      expect(job.result.layers).toHaveLength(2);
      expect(job.result.layers.every((l: { status: string; total: number | null }) => l.status === 'Pull complete' && (l.total ?? 0) > 0)).toBe(true);
      expect(ok(await s.call('GET', `/docker/available-images?image_name=${encodeURIComponent(reg.repository)}`)).data.map((i: { tags: string[] }) => i.tags)).toEqual([[reg.image]]);
    } finally {
      await docker.getImage(reg.image).remove({ force: true }).catch(() => undefined);
      await reg.close();
    }
  }, 60_000);

  it('refuses to deploy a bot from an image off the allow-list, and allows the listed ones and the server image', async () => {
    const deploy = (id: string, image: string) =>
      s.call('POST', '/bot-orchestration/deploy', { bot_id: `${RUN}-${id}`, account_name: 'dapi_desk', runtime: 'docker', image, start: false, controllers: [{ controller_name: 'pmm_simple', config: PMM }] });
    const refused = await deploy('evil', 'evil/miner:latest');
    expect(refused.status, refused.text).toBe(403);
    expect(refused.body.error.code).toBe('POLICY_DENIED');
    expect(issuePaths(refused.body)).toEqual(['image']);
    expect(refused.body.error.hint).toContain('/docker/allowed-images');
    expect((await s.call('GET', `/bot-orchestration/bots/${RUN}-evil/status`)).status).toBe(404);

    expect(ok(await deploy('own', TEST_IMAGE), 201).bot).toMatchObject({ image: TEST_IMAGE, desired_state: 'stopped' });
    expect((await deploy('hb', 'hummingbot/hummingbot:2.4.0')).status).toBe(403);

    const set = ok(await s.call('PUT', '/docker/allowed-images', { patterns: ['hummingbot/hummingbot:*', 'ghcr.io/acme/bot:1.2'] }));
    expect(set).toMatchObject({ default_image: TEST_IMAGE, patterns: [{ pattern: 'ghcr.io/acme/bot:1.2', added_by: 'admin' }, { pattern: 'hummingbot/hummingbot:*', added_by: 'admin' }] });
    expect(ok(await s.call('GET', '/docker/allowed-images'))).toEqual(set);
    expect(ok(await deploy('hb', 'hummingbot/hummingbot:2.4.0'), 201).bot).toMatchObject({ image: 'hummingbot/hummingbot:2.4.0' });
    expect(ok(await deploy('acme', 'ghcr.io/acme/bot:1.2'), 201).bot.image).toBe('ghcr.io/acme/bot:1.2');
    expect((await deploy('acme2', 'ghcr.io/acme/bot:1.3')).status).toBe(403);
    expect((await deploy('hbx', 'hummingbot/hummingbotx:1')).status).toBe(403);

    // A bare * and a * inside a name (hummingbot* would admit hummingbotevil/x) are refused.
    const badPattern = await s.call('PUT', '/docker/allowed-images', { patterns: ['ok/image:1', '*', 'hummingbot*', 'acme/bot*'] });
    expect(badPattern.status, badPattern.text).toBe(400);
    expect(issuePaths(badPattern.body)).toEqual(['patterns.1', 'patterns.2', 'patterns.3']);
    expect(ok(await s.call('PUT', '/docker/allowed-images', { patterns: [] })).patterns).toEqual([]);
    expect((await deploy('hb2', 'hummingbot/hummingbot:2.4.0')).status).toBe(403);

    // An image taken off the list runs no more: the start of a bot deployed with it is refused, and its log says why.
    const start = await s.call('POST', `/bot-orchestration/bots/${RUN}-hb/start`, {});
    expect(start.status, start.text).toBe(403);
    expect(start.body.error.code).toBe('POLICY_DENIED');
    const logs = ok(await s.call('GET', `/bot-orchestration/bots/${RUN}-hb/logs?limit=50`)).logs as Array<{ message: string }>;
    expect(logs.some((l) => l.message.startsWith('Launch failed: The image hummingbot/hummingbot:2.4.0 is not on'))).toBe(true);
    expect(ok(await s.call('GET', `/bot-orchestration/bots/${RUN}-hb/status`)).bot).toMatchObject({ desired_state: 'running', observed_state: 'error' });
  });
});
