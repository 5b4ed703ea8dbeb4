import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_LABEL, CONTAINER_STATE_DIR, DockerRuntime, MANAGED_LABEL, PASSWORD_FILE, containerName } from '../../src/core/bots/docker-runtime.js';
import type { BotExit, BotLaunch } from '../../src/core/bots/runtime.js';
import { createLogger } from '../../src/core/logger.js';
import { dockerAnswers, ensureBotImage, TEST_IMAGE } from '../helpers/docker.js';

/**
 * The settings a server running in a container needs to start bots through the host's daemon:
 * BOT_MQTT_URL (the broker as the bots on the host's network reach it) and BOT_STATE_HOST_DIR (the
 * daemon's path of DATA_DIR/bots). Here the server's view and the daemon's view of the state folder are
 * two paths to one directory (a symlink stands in for the container's volume), so the mount's source
 * tells which one the runtime gave the daemon.
 */
const docker = new Docker();
const REQUIRED = process.env.REQUIRE_SERVICES === '1';
const up = await dockerAnswers(docker);
if (!up && REQUIRED) throw new Error('REQUIRE_SERVICES=1 but no Docker daemon answers: run scripts/services.sh');

const RUN = `c${randomBytes(3).toString('hex')}`;
const root = mkdtempSync(join(tmpdir(), 'td-docker-hostdir-'));
const local = join(root, 'data', 'bots');
const host = join(root, 'host-view-of-bots');
mkdirSync(local, { recursive: true });
symlinkSync(local, host);

afterAll(async () => {
  if (up) {
    const ours = await docker.listContainers({ all: true, filters: { label: [`${MANAGED_LABEL}=true`] } });
    for (const c of ours.filter((c) => c.Labels[BOT_LABEL]?.startsWith(`${RUN}-`))) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  }
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!up)('docker bots started by a server that runs in a container', () => {
  beforeAll(async () => {
    await ensureBotImage();
  });

  it('mounts the state directory from its host path and gives the bot the host-side broker URL', async () => {
    const rt = new DockerRuntime({
      image: TEST_IMAGE,
      logger: createLogger('silent'),
      docker,
      // The bot prints what it was told and what its state directory holds.
      command: ['/usr/bin/node', '-e', `const fs = require('fs'); console.log(JSON.parse(process.env.TRADEDESK_BOT).mqtt_url); console.log(fs.readFileSync(process.env.TRADEDESK_BOT_PASSWORD_FILE, 'utf8'));`],
      brokerUrl: 'mqtt://127.0.0.1:1883',
      stateDirs: { local, host },
    });
    const id = `${RUN}-1`;
    const password = randomBytes(12).toString('hex');
    const launch: BotLaunch = {
      spec: { bot_id: id, account: 'paper', mqtt_url: 'mqtt://emqx:1883', mqtt_username: `bot-${id}`, strategy: { script: { name: 'noop', config: {} } }, autostart: true, on_restart: 'resume' },
      password,
      stateDir: join(local, id),
    };
    const exit = new Promise<BotExit>((resolve) => rt.onExit((e) => e.botId === id && resolve(e)));
    await rt.launch(launch);
    const e = await exit;
    expect(e.code, e.tail.join('\n')).toBe(0);
    // It read its password from the file; the output the server keeps has it masked, as every known secret.
    expect(e.tail).toEqual(['mqtt://127.0.0.1:1883', '***']);
    const info = await docker.getContainer(containerName(id)).inspect();
    expect(info.Mounts.find((m) => m.Destination === CONTAINER_STATE_DIR)?.Source).toBe(join(host, id));
    // Removing the bot takes its password file away, found through the server's own path.
    expect(existsSync(join(local, id, PASSWORD_FILE))).toBe(true);
    await rt.remove(id);
    expect(existsSync(join(local, id, PASSWORD_FILE))).toBe(false);
    expect(existsSync(join(local, id))).toBe(true);
    await rt.close();
  });
});
