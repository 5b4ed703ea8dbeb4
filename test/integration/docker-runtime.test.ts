import Docker from 'dockerode';
import { sql } from 'drizzle-orm';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_LABEL, CONTAINER_STATE_DIR, DockerRuntime, MANAGED_LABEL, PASSWORD_FILE, containerName, demuxLogLines } from '../../src/core/bots/docker-runtime.js';
import { BOT_PASSWORD_ENV, BOT_PASSWORD_FILE_ENV, BOT_SPEC_ENV, BOT_STATE_DIR_ENV, TAIL_LINES, type BotExit, type BotLaunch } from '../../src/core/bots/runtime.js';
import { AppError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { VERSION } from '../../src/version.js';
import { botWorld, type BotWorld } from '../helpers/bot-world.js';
import { drivers } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';
import { dockerAnswers, ensureBotImage, TEST_IMAGE } from '../helpers/docker.js';

const docker = new Docker();
const REQUIRED = process.env.REQUIRE_SERVICES === '1';
const up = await dockerAnswers(docker);
if (!up) {
  if (REQUIRED) throw new Error('REQUIRE_SERVICES=1 but no Docker daemon answers: run scripts/services.sh (it installs and starts dockerd)');
  console.warn('skipping the docker runtime tests: no Docker daemon answers');
}

const silent = createLogger('silent');
/** Every bot id of this run starts with it, so that the cleanup touches nothing else. */
const RUN = `t${randomBytes(3).toString('hex')}`;
let seq = 0;
const botId = () => `${RUN}-${++seq}`;
const NODE = '/usr/bin/node';

/** A runtime whose containers run `node -e <script>` in the bot image (the bot process itself is not needed to test the runtime). */
function scriptRuntime(script: string): DockerRuntime {
  return new DockerRuntime({ image: TEST_IMAGE, logger: silent, docker, command: [NODE, '-e', script] });
}

const stateRoot = mkdtempSync(join(tmpdir(), 'td-docker-state-'));
function launchOf(id: string, password = randomBytes(18).toString('base64url')): BotLaunch {
  return {
    spec: { bot_id: id, account: 'paper', mqtt_url: 'mqtt://127.0.0.1:1883', mqtt_username: `bot-${id}`, strategy: { script: { name: 'noop', config: {} } }, autostart: true, on_restart: 'resume' },
    password,
    stateDir: join(stateRoot, id),
  };
}

/** The next exit the runtime reports for `id`. */
function nextExit(rt: DockerRuntime, id: string): Promise<BotExit> {
  return new Promise((resolve) => rt.onExit((e) => e.botId === id && resolve(e)));
}

/** Waits until the bot's container has written `line` (read from `docker logs`): it then runs its script, handlers set. */
async function printed(id: string, line: string): Promise<void> {
  await waitFor(`${id} to print ${line}`, async () => demuxLogLines((await docker.getContainer(containerName(id)).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer).includes(line), { everyMs: 100 });
}

const LONG_RUNNING = 'setInterval(() => {}, 1000); console.log("up")';

afterAll(async () => {
  if (up) {
    const ours = await docker.listContainers({ all: true, filters: { label: [`${MANAGED_LABEL}=true`] } });
    for (const c of ours.filter((c) => c.Labels[BOT_LABEL]?.startsWith(`${RUN}-`))) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  }
  rmSync(stateRoot, { recursive: true, force: true });
});

describe.skipIf(!up)('the docker bot runtime, on the real daemon', () => {
  beforeAll(async () => {
    await ensureBotImage();
  });

  it('answers available() when the daemon does, and false (no exception) when there is none; then a call is UPSTREAM_UNAVAILABLE', async () => {
    expect(await scriptRuntime('').available()).toBe(true);
    const nowhere = new DockerRuntime({ image: TEST_IMAGE, logger: silent, docker: new Docker({ socketPath: join(stateRoot, 'no-such.sock') }) });
    expect(await nowhere.available()).toBe(false);
    await expect(nowhere.launch(launchOf(botId()))).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await expect(nowhere.running(botId())).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('runs the image: --version prints the version and the exit is reported with code 0 and that line', async () => {
    const rt = new DockerRuntime({ image: TEST_IMAGE, logger: silent, docker, command: [NODE, '/app/dist/main.js', '--version'] });
    const id = botId();
    const exit = nextExit(rt, id);
    await rt.launch(launchOf(id));
    expect(await exit).toEqual({ botId: id, code: 0, signal: null, tail: [VERSION] });
    expect(await rt.running(id)).toBe(false);
    await rt.remove(id);
    expect(await docker.listContainers({ all: true, filters: { name: [containerName(id)] } })).toEqual([]);
    await rt.close();
  });

  it('holds everything the code loads: each module of dist/ imports in the image (whose node_modules is trimmed)', async () => {
    const rt = new DockerRuntime({
      image: TEST_IMAGE,
      logger: silent,
      docker,
      command: [
        NODE,
        '--input-type=module',
        '-e',
        `const fs = await import('node:fs');
        const files = fs.readdirSync('/app/dist', { recursive: true }).filter((f) => f.endsWith('.js') && f !== 'main.js');
        const failed = [];
        for (const f of files) await import('/app/dist/' + f).catch((e) => failed.push(f + ': ' + e.message));
        console.log(JSON.stringify({ modules: files.length, failed }));
        process.exit(0);`,
      ],
    });
    const id = botId();
    const exit = nextExit(rt, id);
    await rt.launch(launchOf(id));
    const e = await exit;
    expect(e.code, e.tail.join('\n')).toBe(0);
    const result = JSON.parse(e.tail.at(-1)!) as { modules: number; failed: string[] };
    expect(result.failed).toEqual([]);
    expect(result.modules).toBeGreaterThan(100);
    await rt.remove(id);
    await rt.close();
  });

  it('reports an exit code of 3 with the last lines the bot wrote, stdout and stderr', async () => {
    const rt = scriptRuntime('for (let i = 0; i < 80; i++) console.log("line " + i); setTimeout(() => { console.error("giving up"); process.exit(3); }, 200)');
    const id = botId();
    const exit = nextExit(rt, id);
    await rt.launch(launchOf(id));
    const e = await exit;
    expect(e.code).toBe(3);
    expect(e.signal).toBeNull();
    expect(e.tail).toHaveLength(TAIL_LINES);
    expect(e.tail.at(-1)).toBe('giving up');
    expect(e.tail.at(-2)).toBe('line 79');
    expect(e.tail[0]).toBe(`line ${80 - TAIL_LINES + 1}`);
    await rt.remove(id);
    await rt.close();
  });

  it('hands the bot its spec, its state directory and its password in a 0600 file, never in the environment', async () => {
    const rt = scriptRuntime(`
      const fs = require('node:fs');
      const spec = JSON.parse(process.env.${BOT_SPEC_ENV});
      const pw = fs.readFileSync(process.env.${BOT_PASSWORD_FILE_ENV}, 'utf8');
      fs.writeFileSync(process.env.${BOT_STATE_DIR_ENV} + '/state.json', JSON.stringify({ bot: spec.bot_id }));
      let rootWritable = true;
      try { fs.writeFileSync('/app/x', 'x'); } catch (e) { rootWritable = e.code; }
      console.log(JSON.stringify({
        id: spec.bot_id,
        pwHash: require('node:crypto').createHash('sha256').update(pw).digest('hex'),
        pwEnv: process.env.${BOT_PASSWORD_ENV} ?? null,
        stateDir: process.env.${BOT_STATE_DIR_ENV},
        uid: process.getuid(),
        rootWritable,
      }));`);
    const id = botId();
    const l = launchOf(id);
    const exit = nextExit(rt, id);
    await rt.launch(l);
    const e = await exit;
    expect(e.code, e.tail.join('\n')).toBe(0);
    const seen = JSON.parse(e.tail.at(-1)!) as Record<string, unknown>;
    expect(seen).toEqual({
      id,
      pwHash: createHash('sha256').update(l.password).digest('hex'),
      pwEnv: null,
      stateDir: CONTAINER_STATE_DIR,
      uid: expect.any(Number),
      rootWritable: 'EROFS',
    });
    expect(seen.uid).not.toBe(0);
    expect(JSON.parse(readFileSync(join(l.stateDir, 'state.json'), 'utf8'))).toEqual({ bot: id });
    // docker inspect shows the environment and the command: the password is in neither.
    const info = await docker.getContainer(containerName(id)).inspect();
    expect(JSON.stringify(info)).not.toContain(l.password);
    await rt.remove(id);
    await rt.close();
  });

  it('creates the container labelled, on the host network, with no privilege and no Docker socket', async () => {
    const rt = scriptRuntime(LONG_RUNNING);
    const id = botId();
    const l = launchOf(id);
    await rt.launch(l);
    const info = await docker.getContainer(containerName(id)).inspect();
    expect(info.Config.Labels).toMatchObject({ [MANAGED_LABEL]: 'true', [BOT_LABEL]: id });
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.CapAdd ?? []).toEqual([]);
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('no');
    expect(info.HostConfig.Binds ?? []).toEqual([]);
    expect(info.Mounts.map((m) => ({ type: m.Type, source: m.Source, destination: m.Destination }))).toEqual([{ type: 'bind', source: l.stateDir, destination: CONTAINER_STATE_DIR }]);
    expect(JSON.stringify(info.Mounts)).not.toContain('docker.sock');
    expect(info.Config.User).not.toMatch(/^0?(:|$)/);
    await expect(rt.launch(l)).rejects.toMatchObject({ code: 'CONFLICT' });
    await rt.stop(id, 1000);
    await rt.remove(id);
    await rt.close();
  });

  it('stops a running bot: SIGTERM ends it; one that ignores SIGTERM is killed after the grace', async () => {
    const rt = scriptRuntime(LONG_RUNNING);
    const id = botId();
    const exits: BotExit[] = [];
    rt.onExit((e) => e.botId === id && exits.push(e));
    await rt.launch(launchOf(id));
    expect(await rt.running(id)).toBe(true);
    await printed(id, 'up');
    await rt.stop(id, 5_000);
    expect(await rt.running(id)).toBe(false);
    expect(exits).toEqual([{ botId: id, code: null, signal: 'SIGTERM', tail: ['up'] }]);
    await rt.stop(id, 1000); // not running: a no-op
    expect(exits).toHaveLength(1);
    await rt.remove(id);

    const stubborn = scriptRuntime('process.on("SIGTERM", () => console.log("ignoring SIGTERM")); setInterval(() => {}, 1000); console.log("up")');
    const id2 = botId();
    const exit2 = nextExit(stubborn, id2);
    await stubborn.launch(launchOf(id2));
    await printed(id2, 'up');
    await stubborn.stop(id2, 1000);
    expect(await exit2).toEqual({ botId: id2, code: null, signal: 'SIGKILL', tail: ['up', 'ignoring SIGTERM'] });
    await stubborn.remove(id2);
    await Promise.all([rt.close(), stubborn.close()]);
  });

  it('takes back a running container after a server restart (a new runtime object) and reports its end', async () => {
    const first = scriptRuntime(LONG_RUNNING);
    const id = botId();
    await first.launch(launchOf(id));
    await first.close();
    expect(await first.running(id)).toBe(true); // closing the runtime leaves the bot running

    const second = scriptRuntime(LONG_RUNNING);
    expect(await second.reattach(botId())).toBe(false); // nothing under an id never launched
    expect(await second.reattach(id)).toBe(true);
    expect(await second.running(id)).toBe(true);
    const exit = nextExit(second, id);
    await docker.getContainer(containerName(id)).kill({ signal: 'SIGKILL' });
    expect(await exit).toMatchObject({ botId: id, code: null, signal: 'SIGKILL' });
    expect(await second.reattach(id)).toBe(false); // ended: nothing to take back
    await second.remove(id);
    await second.close();
  });

  it('reports the end of a container someone else removed, once', async () => {
    const rt = scriptRuntime(LONG_RUNNING);
    const id = botId();
    const exits: BotExit[] = [];
    rt.onExit((e) => e.botId === id && exits.push(e));
    const exit = nextExit(rt, id);
    await rt.launch(launchOf(id));
    await docker.getContainer(containerName(id)).remove({ force: true });
    expect(await exit).toMatchObject({ botId: id, code: null });
    expect(await rt.running(id)).toBe(false);
    expect(await rt.reattach(id)).toBe(false);
    await rt.remove(id); // nothing left: a no-op
    await rt.close();
    expect(exits).toHaveLength(1);
  });

  it('never touches a container it did not create, even under its name', async () => {
    const rt = scriptRuntime(LONG_RUNNING);
    const id = botId();
    const foreign = await docker.createContainer({ name: containerName(id), Image: TEST_IMAGE, Entrypoint: [NODE, '-e', LONG_RUNNING], HostConfig: { NetworkMode: 'none' } });
    try {
      await foreign.start();
      expect(await rt.running(id)).toBe(false);
      expect(await rt.reattach(id)).toBe(false);
      await rt.stop(id, 1000);
      await rt.remove(id);
      expect((await foreign.inspect()).State.Running).toBe(true);
      const err = await rt.launch(launchOf(id)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'CONFLICT' });
      expect((await foreign.inspect()).State.Running).toBe(true);
      expect(existsSync(join(stateRoot, id, PASSWORD_FILE))).toBe(false);
    } finally {
      await foreign.remove({ force: true });
    }
    await rt.close();
  });

  it('refuses an image the daemon does not have, naming how to build it, and a bad bot id; no password file stays', async () => {
    const rt = scriptRuntime(LONG_RUNNING);
    const id = botId();
    const l = launchOf(id);
    const err = await rt.launch({ ...l, image: `tradedesk-missing:${RUN}` }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect((err as AppError).hint).toContain('build:image');
    expect(await rt.running(id)).toBe(false);
    expect(existsSync(join(l.stateDir, PASSWORD_FILE))).toBe(false);
    await expect(rt.launch(launchOf('Not A Bot Id'))).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ path: 'spec.bot_id' }] } });
    await rt.close();
  });

  it('relaunches a bot whose earlier container ended and was not removed; removing it deletes the password file', async () => {
    const rt = scriptRuntime('console.log(require("node:fs").existsSync(process.env.TRADEDESK_BOT_STATE_DIR + "/.mqtt-password"))');
    const id = botId();
    const l = launchOf(id);
    const first = nextExit(rt, id);
    await rt.launch(l);
    expect(await first).toMatchObject({ code: 0, tail: ['true'] });
    const second = nextExit(rt, id);
    await rt.launch(l);
    expect(await second).toMatchObject({ code: 0, tail: ['true'] });
    expect(existsSync(join(l.stateDir, PASSWORD_FILE))).toBe(true);
    await rt.remove(id);
    expect(existsSync(join(l.stateDir, PASSWORD_FILE))).toBe(false); // the password does not outlive the container
    expect(existsSync(l.stateDir)).toBe(true);
    await rt.close();
  });
});

describe.skipIf(!up)('a bot container running `tradedesk bot` against the server', () => {
  let w: BotWorld;
  let rt: DockerRuntime;
  beforeAll(async () => {
    await ensureBotImage();
    w = await botWorld(drivers()[0]!);
    rt = new DockerRuntime({ image: TEST_IMAGE, logger: silent, docker });
  });
  afterAll(async () => {
    await rt?.close();
    await w?.stop();
  });

  it('exits 2 with the reason for a spec it cannot run', async () => {
    const id = botId();
    const exit = nextExit(rt, id);
    await rt.launch({ ...launchOf(id), spec: { ...launchOf(id).spec, mqtt_url: w.broker.url, strategy: { script: { name: 'no_such_script', config: {} } } } });
    const e = await exit;
    expect(e.code, e.tail.join('\n')).toBe(2);
    expect(e.tail.join('\n')).toContain('no_such_script');
    await rt.remove(id);
  });

  it('trades through the server from its container (host network, password from the file) and ends with 0 on stop', async () => {
    const id = botId();
    await w.account('dockdesk');
    const { spec, password } = await w.deploy(id, 'dockdesk', { script: { name: 'twap_buyer_v1', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '100', duration: 2, interval: 1 } } });
    const exits: BotExit[] = [];
    rt.onExit((e) => e.botId === id && exits.push(e));
    await rt.launch({ spec, password, stateDir: join(stateRoot, id) });
    await expect.poll(() => w.of(id, 'status_updates').map((u) => u.msg), { timeout: 20_000 }).toContain('online');
    const filled = async () => ((await w.server.services.db.execute(sql`select count(*)::int as n from orders where account_name = 'dockdesk' and status = 'filled'`)) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n;
    await expect.poll(filled, { timeout: 20_000 }).toBe(2);
    expect(await rt.running(id)).toBe(true);
    await rt.stop(id, 10_000);
    expect(exits).toMatchObject([{ botId: id, code: 0, signal: null }]);
    expect(w.of(id, 'status_updates').at(-1)).toMatchObject({ type: 'availability', msg: 'offline' });
    await rt.remove(id);
  });
});

describe('docker log frames', () => {
  it('joins the payloads of stdout and stderr frames into lines', () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = stream;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    expect(demuxLogLines(Buffer.concat([frame(1, 'a\n'), frame(2, 'b\r\n'), frame(1, 'c')]))).toEqual(['a', 'b', 'c']);
    expect(demuxLogLines(Buffer.alloc(0))).toEqual([]);
  });
});
