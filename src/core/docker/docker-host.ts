import type Docker from 'dockerode';
import type { BotControl } from '../bots/control.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { viewOfInfo, viewOfInspect, type ContainerView } from './container-view.js';
import { daemonMessage, statusOf, unreachable } from './daemon-errors.js';
import { pullImage, type PullOptions, type PullResult } from './image-pull.js';
import { logLines } from './log-lines.js';
import { BOT_LABEL, MANAGED_LABEL } from '../bots/docker-runtime.js';
import { CONTAINER_OUTPUT_LOGGER } from '../bots/runtime.js';

/** Log lines shown with an ended container. */
export const LAST_LOG_LINES = 20;

export interface ImageView {
  id: string;
  tags: string[];
  size_bytes: number;
  created_at: string;
}

export interface ContainerQuery {
  state: 'running' | 'exited';
  /** Substring of the name. */
  nameFilter?: string | undefined;
  /** Also containers this server did not create (admin's explicit choice). */
  includeUnmanaged: boolean;
}

export interface RemoveResult {
  container: ContainerView & { last_logs: string[] };
  /** The bot it ran, archived first (its exit code and last lines kept in its records); null for another container. */
  archived_bot: string | null;
}

export interface DockerHostDeps {
  docker: Docker;
  bots: BotControl;
  logger: Logger;
  /** How long a read waits for the daemon (default 5 s). */
  timeoutMs?: number;
  /** How long a pull may go without a word from the daemon (default 30 s). */
  pullIdleTimeoutMs?: number;
}

/**
 * The Docker host as the admin's docker commands see it. Only containers this server created (label
 * `tradedesk.managed=true`) are listed or touched unless the caller asks for the others explicitly. A
 * bot's container is driven through the orchestrator, so that its records follow: a stop is the bot's
 * stop, a start the bot's start, a removal archives the bot first (its exit code and last output lines
 * kept, its broker login revoked).
 */
export class DockerHost {
  readonly #docker: Docker;
  readonly #timeoutMs: number;

  constructor(private readonly d: DockerHostDeps) {
    this.#docker = d.docker;
    this.#timeoutMs = d.timeoutMs ?? 5_000;
  }

  /** Whether the daemon answers, and its version when it does; never throws. */
  async ping(): Promise<{ running: boolean; version: string | null }> {
    try {
      // dockerode's types omit version's options; the call takes an abortSignal like every other.
      const version = this.#docker.version.bind(this.#docker) as unknown as (o: { abortSignal: AbortSignal }) => Promise<{ Version?: string }>;
      const v = await version({ abortSignal: AbortSignal.timeout(this.#timeoutMs) });
      return { running: true, version: v.Version ?? null };
    } catch {
      return { running: false, version: null };
    }
  }

  async images(nameFilter?: string): Promise<ImageView[]> {
    const list = await this.#call(() => this.#docker.listImages({ abortSignal: AbortSignal.timeout(this.#timeoutMs) }));
    return list
      .map((i) => ({ id: i.Id.replace(/^sha256:/, '').slice(0, 12), tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'), size_bytes: i.Size, created_at: new Date(i.Created * 1000).toISOString() }))
      .filter((i) => !nameFilter || i.tags.some((t) => t.includes(nameFilter)))
      .sort((a, b) => (a.tags[0] ?? '~').localeCompare(b.tags[0] ?? '~'));
  }

  async containers(q: ContainerQuery): Promise<ContainerView[]> {
    const filters: Record<string, string[]> = { status: q.state === 'running' ? ['running'] : ['exited', 'dead', 'created'] };
    if (!q.includeUnmanaged) filters.label = [`${MANAGED_LABEL}=true`];
    const list = await this.#call(() => this.#docker.listContainers({ all: true, filters, abortSignal: AbortSignal.timeout(this.#timeoutMs) }));
    const views = list.map(viewOfInfo).filter((c) => !q.nameFilter || c.name.includes(q.nameFilter));
    views.sort((a, b) => a.name.localeCompare(b.name));
    if (q.state === 'running') return views;
    // An ended container says why in its last lines: they come with it.
    return Promise.all(views.map(async (v) => ({ ...v, last_logs: await this.#tail(v.id, LAST_LOG_LINES) })));
  }

  async start(name: string, includeUnmanaged: boolean): Promise<ContainerView> {
    const info = await this.#resolve(name, includeUnmanaged);
    const bot = await this.#liveBot(info);
    if (bot) {
      // The orchestrator launches the bot anew (a fresh container, its login, its run) and waits for it.
      await this.d.bots.start(bot);
    } else {
      await this.#call(() => this.#docker.getContainer(info.Id).start()).catch((e: unknown) => (statusOf(e) === 304 ? undefined : Promise.reject(this.#refused('start', name, e))));
    }
    return this.#view(name);
  }

  async stop(name: string, includeUnmanaged: boolean): Promise<ContainerView> {
    const info = await this.#resolve(name, includeUnmanaged);
    const bot = await this.#liveBot(info);
    if (bot) await this.d.bots.stop(bot, { skipOrderCancellation: false });
    else await this.#call(() => this.#docker.getContainer(info.Id).stop({ t: 10 })).catch((e: unknown) => (statusOf(e) === 304 ? undefined : Promise.reject(this.#refused('stop', name, e))));
    return this.#view(name);
  }

  async remove(name: string, includeUnmanaged: boolean, by: string): Promise<RemoveResult> {
    const info = await this.#resolve(name, includeUnmanaged);
    const bot = await this.#liveBot(info);
    if (bot) {
      // The archive stops the bot, keeps its container's exit code and last lines in its records, and removes the container.
      const archived = await this.d.bots.archive(bot, { keepOutput: { reason: `Container ${name} removed by ${by}` } });
      const kept = (await this.d.bots.logs(bot, { limit: 200 })).filter((l) => l.logger === CONTAINER_OUTPUT_LOGGER).map((l) => l.message);
      // Gone with the archive, unless the runtime could not remove it: then it goes here.
      await this.#forceRemove(name, info.Id);
      const code = archived.exitCode;
      return {
        container: { ...viewOfInspect(info), state: 'removed', status: code === null ? 'Removed' : `Exited (${code}), removed`, exit_code: code, last_logs: kept.slice(-LAST_LOG_LINES) },
        archived_bot: bot,
      };
    }
    const c = this.#docker.getContainer(info.Id);
    if (info.State.Running) await this.#call(() => c.stop({ t: 10 })).catch((e: unknown) => (statusOf(e) === 304 || statusOf(e) === 404 ? undefined : Promise.reject(this.#refused('stop', name, e))));
    // What it left, read before it goes: the answer is all that remains of it.
    const ended = await c.inspect().catch(() => info);
    const lastLogs = await this.#tail(info.Id, LAST_LOG_LINES, info.Config.Tty);
    await this.#forceRemove(name, info.Id);
    return { container: { ...viewOfInspect(ended), state: 'removed', last_logs: lastLogs }, archived_bot: null };
  }

  async #forceRemove(name: string, id: string): Promise<void> {
    await this.#call(() => this.#docker.getContainer(id).remove({ force: true })).catch((e: unknown) => (statusOf(e) === 404 ? undefined : Promise.reject(this.#refused('remove', name, e))));
  }

  pull(image: string, opts: Omit<PullOptions, 'idleTimeoutMs'> & { idleTimeoutMs?: number }): Promise<PullResult> {
    return pullImage(this.#docker, image, { idleTimeoutMs: this.d.pullIdleTimeoutMs ?? 30_000, ...opts });
  }

  /** The container by exact name; one this server did not create is refused unless asked for. */
  async #resolve(name: string, includeUnmanaged: boolean): Promise<Docker.ContainerInspectInfo> {
    const info = await this.#call(() => this.#docker.getContainer(name).inspect({ abortSignal: AbortSignal.timeout(this.#timeoutMs) })).catch((e: unknown) => {
      if (statusOf(e) === 404) throw new AppError('NOT_FOUND', `No container named ${name} on this Docker host.`, { hint: 'List them with GET /docker/active-containers and GET /docker/exited-containers.' });
      throw e;
    });
    // A short id prefix resolves too; only a name that is the container's own counts.
    if (info.Name.replace(/^\//, '') !== name) throw new AppError('NOT_FOUND', `No container named ${name} on this Docker host.`, { hint: 'Name the container by its name, not its id.' });
    const managed = info.Config.Labels?.[MANAGED_LABEL] === 'true';
    if (!managed && !includeUnmanaged) {
      throw new AppError('POLICY_DENIED', `Container ${name} was not created by this server; it is left alone.`, {
        hint: 'An admin who means to act on it anyway sends include_unmanaged: true.',
        details: { container: name, managed: false },
      });
    }
    return info;
  }

  /** The id of the bot this container runs, when it is a bot of this server that is not archived. */
  async #liveBot(info: Docker.ContainerInspectInfo): Promise<string | null> {
    const labels = info.Config.Labels ?? {};
    const id = labels[MANAGED_LABEL] === 'true' ? labels[BOT_LABEL] : undefined;
    if (!id) return null;
    const row = await this.d.bots.get(id).catch(() => undefined);
    return row && !row.archivedAt && row.runtime === 'docker' ? id : null;
  }

  async #view(name: string): Promise<ContainerView> {
    const info = await this.#call(() => this.#docker.getContainer(name).inspect()).catch((e: unknown) => (statusOf(e) === 404 ? null : Promise.reject(e)));
    if (!info) throw new AppError('NOT_FOUND', `Container ${name} is gone.`, { hint: 'List them with GET /docker/exited-containers.' });
    return viewOfInspect(info);
  }

  async #tail(id: string, lines: number, tty?: boolean): Promise<string[]> {
    return this.#docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, follow: false, tail: lines })
      .then((b) => logLines(b as unknown as Buffer, tty).slice(-lines), (err: unknown) => {
        this.d.logger.debug('a container log could not be read', { container: id, err });
        return [] as string[];
      });
  }

  #refused(what: string, name: string, err: unknown): AppError {
    const mapped = unreachable(err);
    if (mapped instanceof AppError) return mapped;
    if (statusOf(err) === 404) return new AppError('NOT_FOUND', `Container ${name} is gone.`, { hint: 'List them with GET /docker/exited-containers.' });
    return new AppError('UPSTREAM_REJECTED', `Docker refused to ${what} ${name}: ${daemonMessage(err).slice(0, 300)}.`, { hint: 'The daemon\'s message says why.', cause: err });
  }

  /** A daemon call whose unreachable daemon becomes UPSTREAM_UNAVAILABLE. */
  async #call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw unreachable(err);
    }
  }
}
