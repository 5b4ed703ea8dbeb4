import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerName, MANAGED_LABEL, PASSWORD_FILE } from '../../src/core/bots/docker-runtime.js';
import { dockerAnswers, ensureBotImage, TEST_IMAGE } from '../helpers/docker.js';
import { testServer, type TestServer, okBody as ok } from '../helpers/test-env.js';
import { ensureBuilt } from './dist.js';

/**
 * A bot image is not trusted: it may print the secrets it was given (its broker password) to its output.
 * Whatever the server shows of a container's output (last_logs, the lines kept in a bot's log) must not
 * carry a secret the server knows.
 */
const docker = new Docker();
const up = await dockerAnswers(docker);
if (process.env.DOCKER_AVAILABLE === '1' && !up) throw new Error('DOCKER_AVAILABLE=1 but no Docker daemon answers');

const RUN = `dsec${randomBytes(3).toString('hex')}`;
const PMM = { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '200', buy_spreads: [0.01], sell_spreads: [0.01] };

describe.skipIf(!up)("secrets in a container's output", () => {
  let s: TestServer;

  beforeAll(async () => {
    const main = await ensureBuilt();
    await ensureBotImage();
    s = await testServer('postgres', {}, { bots: { command: [process.execPath, main, 'bot'], image: TEST_IMAGE, orchestrator: { rpcTimeoutMs: 5_000, stopGraceMs: 5_000 }, ingest: { flushMs: 50, knownTtlMs: 100 } } });
    ok(await s.call('POST', '/accounts', { account_name: 'dsec_desk', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '100000', BTC: '1' } }] }), 201);
  }, 400_000);

  afterAll(async () => {
    await s?.stop();
    const mine = await docker.listContainers({ all: true });
    for (const c of mine.filter((c) => c.Names.some((n) => n.includes(RUN)))) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  });

  it("a container that prints a bot's broker password shows it masked in last_logs", async () => {
    const id = `${RUN}-bot`;
    ok(await s.call('POST', '/bot-orchestration/deploy', { bot_id: id, account_name: 'dsec_desk', runtime: 'docker', controllers: [{ controller_name: 'pmm_simple', config: PMM }] }), 201);
    const info = await docker.getContainer(containerName(id)).inspect();
    const stateDir = info.Mounts.find((m) => m.Destination === '/state')!.Source;
    const password = readFileSync(join(stateDir, PASSWORD_FILE), 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(6);

    // A hostile image prints what it was given and exits.
    const name = `${RUN}-leak`;
    const c = await docker.createContainer({ name, Image: TEST_IMAGE, Entrypoint: ['/usr/bin/node', '-e', `console.log("pw=" + ${JSON.stringify(password)}); process.exit(2)`], Cmd: [], Labels: { [MANAGED_LABEL]: 'true' }, HostConfig: { NetworkMode: 'none', CapDrop: ['ALL'] } });
    await c.start();
    await c.wait();
    const exited = ok(await s.call('GET', `/docker/exited-containers?name_filter=${name}`)).data;
    expect(exited).toEqual([expect.objectContaining({ name, exit_code: 2, last_logs: ['pw=***'] })]);
    const removed = ok(await s.call('POST', `/docker/remove-container/${name}`, {}));
    expect(removed.container.last_logs).toEqual(['pw=***']);
    expect(JSON.stringify(removed)).not.toContain(password);
  }, 180_000);
});
