import Docker from 'dockerode';
import { chmodSync, chownSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { statusOf, unreachable } from '../docker/daemon-errors.js';
import { demuxLogLines, logLines } from '../docker/log-lines.js';
import { AppError, invalidField } from '../errors.js';
import type { Logger } from '../logger.js';
import { registerSecret } from '../secrets/redact.js';
import { BOT_PASSWORD_FILE_ENV, BOT_SPEC_ENV, BOT_STATE_DIR_ENV, TAIL_LINES, type BotExit, type BotLaunch, type BotRuntime } from './runtime.js';
import { HUMMINGBOT_HOME, HUMMINGBOT_MOUNTS } from './hummingbot/image.js';
import { isBotId } from './topics.js';

/** Labels on every container this runtime creates; it lists, stops and removes no other container. */
export const MANAGED_LABEL = 'tradedesk.managed';
export const BOT_LABEL = 'tradedesk.bot';
/** `hummingbot` on a container running a real Hummingbot client, `tradedesk` on our own bot's. */
export const KIND_LABEL = 'tradedesk.bot-kind';
/** Where the bot's state directory (BotLaunch.stateDir, on the host) is mounted inside its container. */
export const CONTAINER_STATE_DIR = '/state';
/** The file in the state directory holding the bot's broker password (0600, readable by the container's user only). */
export const PASSWORD_FILE = '.mqtt-password';
/** The user a bot runs as when the server runs as root: the unprivileged user of the bot image. */
export const BOT_UID = 10001;

export { demuxLogLines };

export const containerName = (botId: string) => `tradedesk-bot-${botId}`;

/**
 * What every bot container gets, whatever its image: the host's network (bots reach the broker on
 * 127.0.0.1), no privilege (no capabilities, no new privileges), never the Docker socket (only the
 * bot's own directories are mounted), no restart by Docker (the orchestrator decides), a small init as
 * PID 1 (it forwards SIGTERM to the bot and reaps), bounded json-file logs.
 */
const UNPRIVILEGED = {
  NetworkMode: 'host',
  Privileged: false,
  CapDrop: ['ALL'],
  SecurityOpt: ['no-new-privileges:true'],
  RestartPolicy: { Name: 'no' as const },
  Init: true,
  LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
};

export interface DockerRuntimeOptions {
  /** The image used when a launch names none. */
  image: string;
  logger: Logger;
  /** The daemon; default: DOCKER_HOST or the local socket. */
  docker?: Docker;
  /** The container's command; default `['bot']` after the image's entrypoint. Set, it replaces the entrypoint too. */
  command?: string[];
  /** How long available() waits for the daemon's answer. */
  pingTimeoutMs?: number;
  /**
   * The broker URL a bot is given instead of the launch's (BOT_MQTT_URL): bots use the host's network,
   * so a server in a container that reaches `mqtt://emqx:1883` has them connect to `mqtt://127.0.0.1:1883`.
   */
  brokerUrl?: string;
  /**
   * Where the bots' state directories are for the Docker daemon (BOT_STATE_HOST_DIR): a bind mount's
   * source is a path on the daemon's host, which differs from the server's own path when the server runs
   * in a container. A launch's state directory under `local` is mounted from the same place under `host`.
   */
  stateDirs?: { local: string; host: string };
}

interface Watch {
  containerId: string;
  abort: AbortController;
  /** Settles once the container's end was reported (or watching was given up on close). */
  done: Promise<void>;
}

/** Exit codes 129 to 159 are a process killed by that signal (128 + its number), as shells and docker report them. */
function signalOf(code: number): string | null {
  if (code <= 128 || code >= 160) return null;
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === code - 128);
  return entry ? entry[0] : null;
}

/**
 * Bots as Docker containers on the host's network, one per bot, named `tradedesk-bot-<id>` and labelled
 * `tradedesk.managed=true`, `tradedesk.bot=<id>`. They get no privilege: no capabilities, no new
 * privileges, a read-only root filesystem with a small /tmp, never the Docker socket; only their state
 * directory is mounted (at /state), writable. Docker restarts nothing (restart policy "no"): the
 * orchestrator decides. The broker password goes in a 0600 file in the state directory rather than the
 * environment, which `docker inspect` shows to anyone who may use the daemon.
 *
 * A launch with `hummingbot` set runs a real Hummingbot client instead (see #hummingbotContainer): the
 * same labels and the same absence of privilege, its instance folder mounted as Hummingbot expects.
 *
 * A container outlives the server: after a restart, reattach() finds it by its labels and watches it again.
 */
export class DockerRuntime implements BotRuntime {
  readonly kind = 'docker' as const;
  readonly #docker: Docker;
  readonly #watches = new Map<string, Watch>();
  readonly #listeners: ((e: BotExit) => void)[] = [];
  #closed = false;

  constructor(private readonly opts: DockerRuntimeOptions) {
    this.#docker = opts.docker ?? new Docker();
  }

  async available(): Promise<boolean> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.opts.pingTimeoutMs ?? 2_000);
    try {
      // dockerode's types omit ping's options; the call takes an abortSignal like every other.
      const ping = this.#docker.ping.bind(this.#docker) as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>;
      await ping({ abortSignal: abort.signal });
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  botBrokerUrl(serverUrl: string): string {
    return this.opts.brokerUrl ?? serverUrl;
  }

  onExit(listener: (exit: BotExit) => void): void {
    this.#listeners.push(listener);
  }

  async launch(l: BotLaunch): Promise<void> {
    const botId = l.spec.bot_id;
    if (!isBotId(botId)) throw invalidField('spec.bot_id', 'a bot id is 1 to 63 lowercase letters, digits, "-" or "_"');
    if (!isAbsolute(l.stateDir)) throw new AppError('VALIDATION_FAILED', `The state directory of bot ${botId} must be an absolute path`, { details: { stateDir: l.stateDir } });
    const found = await this.#find(botId);
    if (found?.State === 'running') throw new AppError('CONFLICT', `Bot ${botId} already runs in container ${containerName(botId)}`);
    // A container left from an earlier run (ended, not removed yet) holds the name: it is ours, so it goes.
    if (found) await this.#docker.getContainer(found.Id).remove({ force: true }).catch((e) => (statusOf(e) === 404 ? undefined : Promise.reject(e)));

    registerSecret(l.password);
    const image = l.image ?? this.opts.image;
    const options = l.hummingbot ? this.#hummingbotContainer(l, image) : this.#botContainer(l, image);
    let container: Docker.Container | undefined;
    try {
      container = await this.#docker.createContainer(options);
      await container.start();
    } catch (err) {
      // Nothing runs: neither the container nor the password file stays behind.
      await container?.remove({ force: true }).catch(() => {});
      rmSync(join(l.stateDir, PASSWORD_FILE), { force: true });
      if (statusOf(err) === 404) throw new AppError('PRECONDITION_FAILED', `The bot image ${image} is not on this Docker host`, { hint: 'Build it with `npm run build:image` (tradedesk:local) or `docker build -t <tag> .`, or pull it.', cause: err });
      if (statusOf(err) === 409) throw new AppError('CONFLICT', `A container named ${containerName(botId)} exists that tradedesk did not create`, { hint: 'Rename or remove that container.', cause: err });
      throw unreachable(err);
    }
    this.#watch(botId, container.id);
  }

  /** Our own bot: the launch spec in the environment, the state directory at /state, a read-only root. */
  #botContainer(l: BotLaunch, image: string): Docker.ContainerCreateOptions {
    const botId = l.spec.bot_id;
    const user = this.#prepareStateDir(l.stateDir, l.password);
    return {
      name: containerName(botId),
      Image: image,
      ...(this.opts.command ? { Entrypoint: this.opts.command, Cmd: [] } : { Cmd: ['bot'] }),
      Env: [`${BOT_SPEC_ENV}=${JSON.stringify({ ...l.spec, mqtt_url: this.botBrokerUrl(l.spec.mqtt_url) })}`, `${BOT_STATE_DIR_ENV}=${CONTAINER_STATE_DIR}`, `${BOT_PASSWORD_FILE_ENV}=${CONTAINER_STATE_DIR}/${PASSWORD_FILE}`],
      User: user,
      Labels: { [MANAGED_LABEL]: 'true', [BOT_LABEL]: botId, [KIND_LABEL]: 'tradedesk' },
      HostConfig: {
        ...UNPRIVILEGED,
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=64m' },
        Mounts: [{ Type: 'bind', Source: this.#onHost(l.stateDir), Target: CONTAINER_STATE_DIR, ReadOnly: false }],
      },
    };
  }

  /**
   * A real Hummingbot client, run as the original API runs it (hummingbot-api.md §9): the image's own
   * command, its instance folder's parts mounted under /home/hummingbot, CONFIG_PASSWORD, SCRIPT_CONFIG
   * and HEADLESS_MODE. Unlike the original, no privilege: no capabilities, no new privileges, never the
   * Docker socket, and it runs as the server's own user (so what it writes stays the server's to archive).
   * Its root filesystem stays writable: Hummingbot writes beside its code. CONFIG_PASSWORD must be in
   * the environment (Hummingbot reads it there); it is registered as a secret so no log shows it.
   */
  #hummingbotContainer(l: BotLaunch, image: string): Docker.ContainerCreateOptions {
    const botId = l.spec.bot_id;
    const hb = l.hummingbot!;
    registerSecret(hb.configPassword);
    const uid = process.getuid?.() ?? BOT_UID;
    const gid = process.getgid?.() ?? BOT_UID;
    return {
      name: containerName(botId),
      Image: image,
      Env: [`CONFIG_PASSWORD=${hb.configPassword}`, `SCRIPT_CONFIG=${hb.scriptConfig}`, 'HEADLESS_MODE=true'],
      User: `${uid}:${gid}`,
      Labels: { [MANAGED_LABEL]: 'true', [BOT_LABEL]: botId, [KIND_LABEL]: 'hummingbot' },
      HostConfig: {
        ...UNPRIVILEGED,
        Mounts: HUMMINGBOT_MOUNTS.map((sub) => ({ Type: 'bind' as const, Source: this.#onHost(join(l.stateDir, sub)), Target: `${HUMMINGBOT_HOME}/${sub}`, ReadOnly: false })),
      },
    };
  }

  async running(botId: string): Promise<boolean> {
    return (await this.#find(botId))?.State === 'running';
  }

  async stop(botId: string, graceMs: number): Promise<void> {
    const found = await this.#find(botId);
    if (!found || found.State !== 'running') return;
    // docker stop: SIGTERM, then SIGKILL after t seconds; resolves once the container has ended.
    await this.#docker
      .getContainer(found.Id)
      .stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) })
      .catch((e) => (statusOf(e) === 304 || statusOf(e) === 404 ? undefined : Promise.reject(e)));
    await this.#watches.get(botId)?.done;
  }

  async reattach(botId: string): Promise<boolean> {
    const found = await this.#find(botId);
    if (!found || found.State !== 'running') return false;
    if (this.#watches.get(botId)?.containerId !== found.Id) this.#watch(botId, found.Id);
    return true;
  }

  async remove(botId: string): Promise<void> {
    const w = this.#watches.get(botId);
    if (w) {
      w.abort.abort();
      this.#watches.delete(botId);
    }
    const found = await this.#find(botId);
    if (!found) return;
    await this.#docker.getContainer(found.Id).remove({ force: true }).catch((e) => (statusOf(e) === 404 ? undefined : Promise.reject(e)));
    // The password file goes with the container; the rest of the state directory is the bot's, kept for a redeploy.
    const state = found.Mounts.find((m) => m.Destination === CONTAINER_STATE_DIR && m.Type === 'bind');
    if (state?.Source) rmSync(join(this.#onServer(state.Source), PASSWORD_FILE), { force: true });
  }

  /** The daemon's path of a state directory the server prepared at `dir`. */
  #onHost(dir: string): string {
    const m = this.opts.stateDirs;
    if (!m) return dir;
    const rel = relative(m.local, dir);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? join(m.host, rel) : dir;
  }

  /** The server's path of a state directory the daemon mounted from `source`. */
  #onServer(source: string): string {
    const m = this.opts.stateDirs;
    if (!m) return source;
    const rel = relative(m.host, source);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? join(m.local, rel) : source;
  }

  async lastOutput(botId: string): Promise<{ code: number | null; tail: string[] } | null> {
    const found = await this.#find(botId);
    if (!found) return null;
    const container = this.#docker.getContainer(found.Id);
    const info = await container.inspect().catch((e: unknown) => (statusOf(e) === 404 ? null : Promise.reject(unreachable(e))));
    if (!info) return null;
    const tail = await container
      .logs({ stdout: true, stderr: true, follow: false, tail: TAIL_LINES })
      .then((b) => logLines(b as unknown as Buffer, info.Config.Tty).slice(-TAIL_LINES), () => [] as string[]);
    return { code: info.State.Running ? null : info.State.ExitCode, tail };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#watches.values()) w.abort.abort();
    await Promise.all([...this.#watches.values()].map((w) => w.done));
    this.#watches.clear();
  }

  /** The bot's container, found by our labels only (a container of the same name without them is not ours). */
  async #find(botId: string): Promise<Docker.ContainerInfo | undefined> {
    const list = await this.#docker.listContainers({ all: true, filters: { label: [`${MANAGED_LABEL}=true`, `${BOT_LABEL}=${botId}`] } }).catch((err: unknown) => {
      throw unreachable(err);
    });
    return list[0];
  }

  /**
   * Creates the state directory, writes the password file (0600) and returns the user the container
   * runs as: the server's own uid, so that the bot can read the file and write its state; when the
   * server runs as root, the image's unprivileged user, who is then given the directory and the file.
   */
  #prepareStateDir(dir: string, password: string): string {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw new AppError('VALIDATION_FAILED', `The state directory ${dir} is not a directory`);
    const file = join(dir, PASSWORD_FILE);
    rmSync(file, { force: true });
    writeFileSync(file, password, { mode: 0o600 });
    chmodSync(file, 0o600);
    const uid = process.getuid?.() ?? BOT_UID;
    const gid = process.getgid?.() ?? BOT_UID;
    if (uid !== 0) return `${uid}:${gid}`;
    chownSync(dir, BOT_UID, BOT_UID);
    chownSync(file, BOT_UID, BOT_UID);
    return `${BOT_UID}:${BOT_UID}`;
  }

  /** Waits for the container's end in the background and reports it once, with the tail of its logs. */
  #watch(botId: string, containerId: string): void {
    const abort = new AbortController();
    const container = this.#docker.getContainer(containerId);
    const done = (async () => {
      const forget = () => {
        if (this.#watches.get(botId)?.containerId === containerId) this.#watches.delete(botId);
      };
      let code: number | null;
      try {
        const r = (await container.wait({ condition: 'not-running', abortSignal: abort.signal })) as { StatusCode: number };
        code = r.StatusCode;
      } catch (err) {
        if (abort.signal.aborted || this.#closed) return;
        const state = await container.inspect().then(
          (i) => i.State,
          (e: unknown) => (statusOf(e) === 404 ? ('gone' as const) : null),
        );
        if (state === null || (state !== 'gone' && state.Running)) {
          // The daemon went away (or dropped the wait) while the container may still run: that is no end
          // to report. A reattach() once the daemon answers again watches it anew.
          this.opts.logger.warn('lost the watch on a bot container', { botId, err });
          forget();
          return;
        }
        // Ended meanwhile, or removed by someone else (no exit code left to read).
        code = state === 'gone' ? null : state.ExitCode;
      }
      const tail = await container
        .logs({ stdout: true, stderr: true, follow: false, tail: TAIL_LINES })
        .then((b) => demuxLogLines(b as unknown as Buffer).slice(-TAIL_LINES), () => [] as string[]);
      forget();
      const signal = code === null ? null : signalOf(code);
      const exit: BotExit = { botId, code: signal ? null : code, signal, tail };
      for (const l of this.#listeners) {
        try {
          l(exit);
        } catch (err) {
          this.opts.logger.error('a bot exit listener failed', { botId, err });
        }
      }
    })();
    this.#watches.set(botId, { containerId, abort, done });
  }
}
