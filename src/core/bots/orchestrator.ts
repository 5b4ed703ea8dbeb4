import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { BotRow, BotRuntime as BotRuntimeKind, BotStrategy } from '../db/schema/index.js';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BotListFilter, BotViewer, NewBotLog, Observation, PerformanceQuery } from './bot-records.js';
import type { BotStore } from './bot-store.js';
import { RpcBus } from './bus.js';
import type { ArchiveOptions, BotControl, BotStatus, ConfigApplied, DeployBot } from './control.js';
import type { BotCredentials } from './credentials.js';
import type { BotFeed } from './feed.js';
import type { BotIngest, Presence } from './ingest.js';
import type { ResponseData } from './protocol/envelope.js';
import { CONTAINER_OUTPUT_LOGGER, TAIL_LINES, type BotExit, type BotLaunchSpec, type BotRuntime } from './runtime.js';
import { checkAccount, checkPairs, checkStrategy, configParams, type AccountConnectors, type StrategyValidator } from './strategy-check.js';
import { isHummingbotImage } from './hummingbot/image.js';
import { writeControllers, writeInstance } from './hummingbot/instance.js';
import { botPrefix } from './topics.js';

/**
 * Keeps bots at the state the server wants them in, and is the one way the bot commands reach a bot.
 *
 * A bot's row holds what it should be (`desired_state`) and what was last seen of it
 * (`observed_state`): `starting` from its launch until it says it is online or beats, `running` from
 * then, `error` the moment its process ends without being asked to (the runtime's exit, with the exit
 * code, its last output lines written to its log and its run closed as error) or its start fails (it
 * could not be launched, or did not come online within the ready timeout), `stopped` after a stop,
 * `unreachable` when its heartbeats stop while its runtime says it runs.
 *
 * Start, stop, config and status go to the bot as RPCs (`hbot/<id>/<cmd>`) and wait for its correlated
 * reply; no reply is a TIMEOUT naming the bot. A stop ends the bot's process whether or not the bot
 * answered (a hung bot must still be stoppable, by the kill switch above all). Config changes are
 * checked against the strategy catalog before anything is sent, and stored once the bot accepted them.
 *
 * A real Hummingbot bot (a docker bot whose image is a Hummingbot image, hummingbot/image.ts) is
 * configured through its instance folder (hummingbot/instance.ts), written before each launch. Current
 * Hummingbot releases fail the status, start, config and import RPCs when headless
 * (hummingbot-bot-mqtt.md), so for such a bot: status is derived from its heartbeats, performance
 * reports and container state, and says so; a start restarts its container; a config change rewrites
 * its controller files, which v2_with_controllers reloads, and says so; import is NOT_SUPPORTED. Its
 * stop is the stop RPC (which it answers) and then the container's stop, as for every bot.
 *
 * At start, every bot meant to run is taken back (a container that outlived the server) or launched
 * again (a child process, which died with its server). One operation at a time per bot: a deploy, a
 * start and a restore of the same bot queue, so nothing is launched twice.
 */

export interface OrchestratorDeps {
  store: BotStore;
  credentials: BotCredentials;
  /** The broker URL bots connect to (without credentials). */
  brokerUrl(): string;
  bus: RpcBus;
  ingest: BotIngest;
  /** The runtimes bots may run on; docker is chosen when it is registered and its daemon answers. */
  runtimes: Partial<Record<BotRuntimeKind, BotRuntime | undefined>>;
  strategies: StrategyValidator;
  /** The accounts bots trade: a deploy on a missing account, or on a connector it lacks, is refused before anything launches. */
  accounts: AccountConnectors;
  clock: Clock;
  logger: Logger;
  /** Where bots keep their own state, one directory each. */
  stateDir: string;
  /** The kill switches: a bot on an account one covers does not start (a bot may trade outside the server's order path). */
  killSwitches?: { activeFor(account: string): Promise<ReadonlyArray<{ scope: 'global' | 'account'; set_at: Date }>> };
  /** The live view: every observed state recorded here is published as a `state` event. */
  feed?: BotFeed;
  /**
   * The admin's allow-list of images: checked at every launch of a bot that names an image (a start, a
   * restart after the server's), so that an image taken off the list runs no more.
   */
  images?: { check(image: string, path: string): Promise<void> };
}

export interface OrchestratorOptions {
  /** How long a launched bot has to say it is online or beat (default 30 s); then it is ended and left `error`. */
  readyTimeoutMs?: number;
  /** The same for a Hummingbot bot (default 120 s: a Python client loading its connectors starts slowly). */
  hummingbotReadyTimeoutMs?: number;
  /** How long a bot has to answer an RPC (default 10 s). */
  rpcTimeoutMs?: number;
  /** How long a bot has to end after SIGTERM before it is killed (default 10 s). */
  stopGraceMs?: number;
  /** A running bot whose last heartbeat is older than this is unreachable (default 35 s: Hummingbot beats every 10 s). */
  staleAfterMs?: number;
  /** How often quiet bots are looked for (default 5 s). */
  checkEveryMs?: number;
  /** A Hummingbot bot whose last performance report is older than this is not running its strategy (default 30 s: it reports every second while it runs). */
  hummingbotReportStaleMs?: number;
}

/** The logger name of the output lines a crashed bot's runtime kept. */
const OUTPUT_LOGGER = 'process.output';

export class BotOrchestrator implements BotControl {
  readonly #o: Required<OrchestratorOptions>;
  /** Per bot, the tail of its queue of operations. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /**
   * Bots whose process is being ended on purpose (their exit is a stop, not a crash), with what their run
   * ends with; `failed` when it is ended because its start failed (the run and the bot end as error).
   */
  readonly #stopping = new Map<string, { finalStatus: unknown; failed?: boolean }>();
  /** Per bot, the recording of its last exit (a stop awaits it). */
  readonly #exits = new Map<string, Promise<void>>();
  /** Per bot, who waits for it to come online. */
  readonly #waiting = new Map<string, { ready: () => void; failed: (e: AppError) => void }>();
  /** Per bot launched, how long it has to come online (a Hummingbot bot has longer). */
  readonly #readyMsOf = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #closing = false;

  constructor(
    private readonly d: OrchestratorDeps,
    opts: OrchestratorOptions = {},
  ) {
    this.#o = { readyTimeoutMs: 30_000, rpcTimeoutMs: 10_000, stopGraceMs: 10_000, staleAfterMs: 35_000, checkEveryMs: 5_000, hummingbotReportStaleMs: 30_000, hummingbotReadyTimeoutMs: 120_000, ...opts };
    for (const rt of Object.values(d.runtimes)) rt?.onExit((e) => this.#onExit(rt, e));
    d.ingest.onPresence((p) => this.#onPresence(p));
  }

  /** Brings back the bots meant to run and starts watching heartbeats; a server without bots does one query. (The module's start.) */
  async open(): Promise<void> {
    this.#timer = setInterval(() => void this.#checkQuiet(), this.#o.checkEveryMs);
    this.#timer.unref();
    const rows = await this.d.store.toRestore();
    // In the background: a bot slow to come up must not hold the server's start.
    for (const row of rows) void this.#serial(row.id, () => this.#restore(row)).catch((err) => this.d.logger.warn('a bot could not be brought back', { bot_id: row.id, err }));
  }

  /** Stops watching; child processes end with the server (their runs are closed as interrupted), containers keep running. (The module's stop.) */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const w of [...this.#waiting.values()]) w.failed(new AppError('UPSTREAM_UNAVAILABLE', 'The server is shutting down.'));
    await Promise.allSettled([...this.#queues.values()]);
    await Promise.allSettled(Object.values(this.d.runtimes).map((rt) => rt?.close()));
    await Promise.allSettled([...this.#exits.values()]);
  }

  /** KILL_SWITCH_ACTIVE when a switch covers the account; its reason stays with those who may read the switch. */
  async #checkKillSwitch(account: string): Promise<void> {
    const [on] = (await this.d.killSwitches?.activeFor(account)) ?? [];
    if (!on) return;
    throw new AppError('KILL_SWITCH_ACTIVE', `The ${on.scope === 'global' ? 'global' : `${account}`} kill switch is on since ${on.set_at.toISOString()}; no bot on ${account} starts while it is.`, {
      hint: 'GET /safety/status shows who set it and why; an admin clears it with POST /safety/kill-switch/clear.',
      details: { account_name: account, scope: on.scope },
    });
  }

  // ---- BotControl ----

  async deploy(req: DeployBot): Promise<BotRow> {
    const strategy = checkStrategy(this.d.strategies, req.strategy);
    await checkAccount(this.d.accounts, req.accountName, strategy);
    await checkPairs(this.d.strategies, this.d.accounts, strategy);
    if (req.start !== false) await this.#checkKillSwitch(req.accountName);
    const hummingbot = isHummingbotImage(req.image);
    if (hummingbot) checkHummingbotDeploy(req, strategy);
    const runtime = await this.#pickRuntime(hummingbot ? 'docker' : req.runtime);
    const row = await this.d.store.create({
      id: req.id,
      name: req.name ?? req.id,
      accountName: req.accountName,
      owner: req.owner,
      channel: req.channel,
      runtime,
      image: req.image ?? null,
      strategy,
      desiredState: req.start === false ? 'stopped' : 'running',
      ...(req.onRestart !== undefined ? { onRestart: req.onRestart } : {}),
    });
    this.d.ingest.invalidate(row.id);
    await this.d.credentials.issue(row.id);
    if (req.start === false) return row;
    return this.#serial(row.id, () => this.#launch(row, true));
  }

  get(id: string): Promise<BotRow | undefined> {
    return this.d.store.get(id);
  }

  list(viewer: BotViewer, f: BotListFilter) {
    return this.d.store.list(viewer, f);
  }

  start(id: string): Promise<BotRow> {
    return this.#serial(id, async () => {
      await this.#checkKillSwitch((await this.#row(id)).accountName);
      const row = await this.d.store.setDesired(id, 'running');
      const rt = this.#runtimeOf(row);
      if (isHummingbot(row)) return this.#startHummingbot(row, rt);
      if (!(await rt.running(id))) return this.#launch(row, true);
      const reply = await this.#ask(id, 'start', {});
      if (reply.status !== 200) throw refused(id, 'start', reply);
      await this.#observe(id, { state: 'running' });
      return this.#row(id);
    });
  }

  stop(id: string, opts: { skipOrderCancellation: boolean }): Promise<BotRow> {
    return this.#serial(id, async () => {
      await this.#row(id);
      const row = await this.d.store.setDesired(id, 'stopped');
      await this.#end(row, opts.skipOrderCancellation);
      return this.#row(id);
    });
  }

  updateConfig(id: string, strategy: BotStrategy): Promise<{ bot: BotRow; applied: ConfigApplied; files?: string[] }> {
    return this.#serial(id, async () => {
      const row = await this.#row(id);
      if (row.archivedAt) throw new AppError('CONFLICT', `Bot ${id} was archived at ${row.archivedAt.toISOString()}.`, { hint: 'An archived bot keeps the config it had.' });
      const next = checkStrategy(this.d.strategies, strategy);
      await checkPairs(this.d.strategies, this.d.accounts, next);
      const params = configParams(row.strategy, next);
      const live = (await this.#runtimeOf(row).running(id)) && row.observedState !== 'error';
      if (isHummingbot(row)) return this.#configHummingbot(row, next, live);
      if (!live) return { bot: await this.d.store.updateStrategy(id, next), applied: 'stored' as const };
      if (params.length) {
        const reply = await this.#ask(id, 'config', { params });
        if (reply.status !== 200) throw refused(id, 'config', reply);
      }
      return { bot: await this.d.store.updateStrategy(id, next), applied: 'bot' as const };
    });
  }

  async status(id: string): Promise<BotStatus> {
    let bot = await this.#row(id);
    const rt = this.d.runtimes[bot.runtime];
    const runs = await this.d.store.runs(id, 1);
    let live: Record<string, unknown> | null = null;
    if (!rt) {
      // A bot of a runtime this server lacks: what the store last saw is all there is.
    } else if (isHummingbot(bot)) {
      // Its status RPC always fails (400) on current releases: what the server sees of it is the answer.
      const up = await rt.running(id);
      // The container went without an exit seen (removed by hand): say so, as for any bot.
      if (!up && (bot.observedState === 'running' || bot.observedState === 'starting' || bot.observedState === 'unreachable')) bot = await this.#observe(id, { state: 'stopped' });
      live = await this.#derivedStatus(bot, up);
      return { bot, run: runs[0] ?? null, live, liveSource: 'derived', crash: await this.#crashOf(bot), recentLogs: (await this.d.store.recentLogs(id, 200)).slice(-20) };
    } else if (await rt.running(id)) {
      if (bot.observedState === 'running' || bot.observedState === 'starting') {
        try {
          const { status, ...answer } = await this.#ask(id, 'status', {});
          if (status !== 200) throw refused(id, 'status', { status, ...answer });
          live = answer;
        } catch (err) {
          // A bot that ended while it was asked: its end, not the missing reply, is the answer.
          if (await rt.running(id)) throw err;
          await this.#exits.get(id);
          bot = await this.#row(id);
        }
      }
    } else if (bot.observedState === 'running' || bot.observedState === 'starting' || bot.observedState === 'unreachable') {
      // The runtime lost it without an exit seen (a container removed by hand): say so.
      bot = await this.#observe(id, { state: 'stopped' });
    }
    const logs = await this.d.store.recentLogs(id, 200);
    return { bot, run: runs[0] ?? null, live, liveSource: live ? 'bot' : null, crash: await this.#crashOf(bot, logs), recentLogs: logs.slice(-20) };
  }

  /** Set when the bot ended on its own: its exit code and the output lines its runtime kept. */
  async #crashOf(bot: BotRow, logs?: Awaited<ReturnType<BotStore['recentLogs']>>): Promise<BotStatus['crash']> {
    if (bot.observedState !== 'error') return null;
    const lines = logs ?? (await this.d.store.recentLogs(bot.id, 200));
    return { exitCode: bot.exitCode, tail: lines.filter((l) => l.logger === OUTPUT_LOGGER).slice(-TAIL_LINES).map((l) => l.message) };
  }

  /**
   * Importing a strategy file is not something either kind of bot does: Hummingbot's import RPC fails
   * when headless (it drives the terminal UI), and ours runs the strategy it was deployed with. Nothing
   * is sent; the error says what to do instead.
   */
  async importStrategy(id: string, name: string): Promise<never> {
    const row = await this.#row(id);
    throw new AppError('NOT_SUPPORTED', `Bot ${id} cannot import the strategy ${name}: ${isHummingbot(row) ? "a headless Hummingbot answers import with an error (it drives the terminal UI, which it lacks)" : 'it runs the strategy it was deployed with'}. Nothing was sent to it.`, {
      hint: `Change its controllers' parameters with a config update (PUT /bot-orchestration/bots/${id}/config), or deploy a new bot with the strategy.`,
      details: { bot_id: id },
    });
  }

  async logs(id: string, q: { limit: number; level?: string }) {
    await this.#row(id);
    return this.d.store.recentLogs(id, q.limit, q.level);
  }

  async fills(id: string, p: { limit: number; cursor?: string }) {
    await this.#row(id);
    return this.d.store.fills(id, p);
  }

  async events(id: string, q: { type?: string; limit: number }) {
    await this.#row(id);
    return this.d.store.events(id, q);
  }

  async performance(id: string, q: PerformanceQuery) {
    await this.#row(id);
    return this.d.store.performanceHistory(id, q);
  }

  async runs(id: string, limit?: number) {
    await this.#row(id);
    return this.d.store.runs(id, limit);
  }

  archive(id: string, opts: ArchiveOptions = {}): Promise<BotRow> {
    return this.#serial(id, async () => {
      const row = await this.#row(id);
      if (row.archivedAt) return row;
      await this.d.store.setDesired(id, 'stopped');
      await this.#end(row, false);
      if (opts.keepOutput) await this.#keepOutput(row, opts.keepOutput.reason);
      const archived = await this.d.store.archive(id);
      this.#tellState(id, 'archived', archived.exitCode);
      await this.#runtimeOf(row).remove(id);
      await this.d.credentials.revoke(id);
      this.d.ingest.invalidate(id);
      return archived;
    });
  }

  async stopBotsFor(accounts: readonly string[] | null, reason: string): Promise<string[]> {
    const rows = (await this.d.store.toRestore()).filter((r) => accounts === null || accounts.includes(r.accountName));
    const results = await Promise.allSettled(
      rows.map(async (r) => {
        await this.#addLogs(r.id, [{ at: this.d.clock.date(), level: 'WARNING', logger: 'server', message: `Stopped by the kill switch: ${reason}` }]);
        await this.stop(r.id, { skipOrderCancellation: false });
        return r.id;
      }),
    );
    results.forEach((res, i) => {
      if (res.status === 'rejected') this.d.logger.error('the kill switch could not stop a bot', { bot_id: rows[i]!.id, err: res.reason });
    });
    return results.flatMap((res) => (res.status === 'fulfilled' ? [res.value] : [])).sort();
  }

  // ---- internals ----

  /**
   * Before its container goes: its exit code onto its last run (when the run's end did not see one: a
   * container stopped behind the server's back) and onto the bot, its last output lines into its log.
   */
  async #keepOutput(row: BotRow, reason: string): Promise<void> {
    const id = row.id;
    const out = await this.#runtimeOf(row)
      .lastOutput?.(id)
      .catch((err: unknown) => {
        this.d.logger.warn('the last output of a bot could not be read before its removal', { bot_id: id, err });
        return null;
      });
    if (!out) return;
    await this.d.ingest.flush();
    const at = this.d.clock.date();
    await this.#addLogs(id, [
      ...out.tail.map((message) => ({ at, level: 'INFO', logger: CONTAINER_OUTPUT_LOGGER, message })),
      { at, level: 'INFO', logger: 'server', message: `${reason}: its container ended with exit code ${out.code ?? 'unknown'}; its last ${out.tail.length} output lines are kept above.` },
    ]);
    if (out.code !== null) {
      await this.d.store.recordRunExit(id, out.code);
      const now = await this.#row(id);
      if (now.exitCode === null) await this.#observe(id, { state: now.observedState, exitCode: out.code });
    }
  }

  /** Runs `op` after every earlier operation on the same bot. */
  #serial<T>(id: string, op: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(op);
    this.#queues.set(id, next);
    void next.finally(() => {
      if (this.#queues.get(id) === next) this.#queues.delete(id);
    }).catch(() => undefined);
    return next;
  }

  async #row(id: string): Promise<BotRow> {
    const row = await this.d.store.get(id);
    if (!row) throw new AppError('NOT_FOUND', `No bot ${id}.`, { hint: 'List bots with GET /bot-orchestration/bots.' });
    return row;
  }

  async #pickRuntime(asked: BotRuntimeKind | undefined): Promise<BotRuntimeKind> {
    if (asked) {
      const rt = this.d.runtimes[asked];
      if (!rt || !(await rt.available())) {
        throw new AppError('PRECONDITION_FAILED', `The ${asked} runtime is not available on this server.`, {
          hint: asked === 'docker' ? 'Start Docker (or set DOCKER_HOST), or deploy on the child runtime.' : 'Deploy on the docker runtime.',
        });
      }
      return asked;
    }
    const docker = this.d.runtimes.docker;
    if (docker && (await docker.available().catch(() => false))) return 'docker';
    if (this.d.runtimes.child) return 'child';
    throw new AppError('PRECONDITION_FAILED', 'No bot runtime is available on this server.', { hint: 'Start Docker (or set DOCKER_HOST).' });
  }

  #runtimeOf(row: BotRow): BotRuntime {
    const rt = this.d.runtimes[row.runtime];
    if (!rt) throw new AppError('PRECONDITION_FAILED', `Bot ${row.id} runs on the ${row.runtime} runtime, which this server does not have.`, { hint: 'Start the server where that runtime is available.' });
    return rt;
  }

  /** Launches the bot's process and, when `wait`, waits until it says it is online or beats. */
  async #launch(row: BotRow, wait: boolean): Promise<BotRow> {
    const rt = this.#runtimeOf(row);
    const id = row.id;
    const login = await this.d.credentials.issue(id);
    const spec: BotLaunchSpec = { bot_id: id, account: row.accountName, mqtt_url: this.d.brokerUrl(), mqtt_username: login.username, strategy: row.strategy, autostart: true, on_restart: row.onRestart };
    const stateDir = join(this.d.stateDir, id);
    // A Hummingbot reads everything from its instance folder: written (again) before every launch, with the login just issued.
    const hummingbot = isHummingbot(row) ? await writeInstance(stateDir, { botId: id, brokerUrl: rt.botBrokerUrl?.(this.d.brokerUrl()) ?? this.d.brokerUrl(), login, strategy: row.strategy, controllerType: (n) => this.#controllerType(n) }) : undefined;
    this.#readyMsOf.set(id, hummingbot ? this.#o.hummingbotReadyTimeoutMs : this.#o.readyTimeoutMs);
    await this.#observe(id, { state: 'starting', exitCode: null });
    const ready = this.#readiness(id);
    await this.d.store.startRun(id);
    try {
      if (row.image && this.d.images) await this.d.images.check(row.image, 'image');
      await rt.launch({ spec, password: login.password, image: row.image, stateDir, ...(hummingbot ? { hummingbot } : {}) });
    } catch (err) {
      ready.cancel();
      const e = toAppError(err);
      await this.d.store.endRun(id, { status: 'error', finalStatus: { launch: e.message } });
      await this.#observe(id, { state: 'error', exitCode: null });
      await this.#addLogs(id, [{ at: this.d.clock.date(), level: 'ERROR', logger: 'server', message: `Launch failed: ${e.message}` }]);
      throw e;
    }
    if (!wait) {
      // A bot brought back after a restart: nobody waits, but a start that never comes online still ends as error.
      void ready.promise
        .then(
          () => this.#observe(id, { state: 'running' }),
          (err: unknown) => (toAppError(err).code === 'TIMEOUT' ? this.#serial(id, () => this.#failedStart(rt, id, toAppError(err))) : undefined),
        )
        .catch((err: unknown) => this.d.logger.warn('a failed bot start could not be recorded', { bot_id: id, err }));
      return this.#row(id);
    }
    try {
      await ready.promise;
    } catch (err) {
      const failed = await this.#failedStart(rt, id, toAppError(err));
      if (failed) throw failed;
      // It beat just as its time ran out (a heartbeat already made it running): it runs.
      return this.#row(id);
    }
    return this.#observe(id, { state: 'running' });
  }

  /**
   * A launched bot that did not come online in time: its process is ended, its run closed as error,
   * the bot left `error` (desired state unchanged: a start tries again) with a log line saying why.
   * A bot that ended on its own meanwhile was recorded by its exit already; the error is returned as it is.
   * Null when the bot came online after all (its heartbeat, written in a batch, made it running).
   */
  async #failedStart(rt: BotRuntime, id: string, e: AppError): Promise<AppError | null> {
    if (e.code !== 'TIMEOUT' || this.#closing) return e;
    const row = await this.d.store.get(id);
    if (row?.observedState === 'running' && (await rt.running(id))) return null;
    // Stopped, or started again, since: nothing of this start is left to end.
    if (!row || row.observedState !== 'starting') return e;
    const why = `Did not come online within ${this.#readyMs(id) / 1000} s (no online message and no heartbeat on the broker ${this.d.brokerUrl()}); its process was ended.`;
    this.d.logger.warn('a bot did not come online in time; ending it', { bot_id: id, runtime: rt.kind, ready_timeout_ms: this.#readyMs(id) });
    await this.#addLogs(id, [{ at: this.d.clock.date(), level: 'ERROR', logger: 'server', message: `Start failed: ${why}` }]);
    if (await rt.running(id)) {
      this.#stopping.set(id, { finalStatus: { launch: why }, failed: true });
      try {
        await rt.stop(id, this.#o.stopGraceMs);
        await this.#exits.get(id);
      } finally {
        this.#stopping.delete(id);
      }
    } else {
      await this.d.store.endRun(id, { status: 'error', finalStatus: { launch: why } });
    }
    await this.#observe(id, { state: 'error' });
    return new AppError('TIMEOUT', `Bot ${id} did not come online within ${this.#readyMs(id) / 1000} s; its process was ended and the bot is in error.`, {
      hint: `Its last output lines are in its status and logs (GET /bot-orchestration/bots/${id}/status). Fix the cause, then start it again (POST /bot-orchestration/bots/${id}/start) or archive it.`,
      details: { bot_id: id, observed_state: 'error' },
    });
  }

  /** A promise of the bot's first sign of life after its launch; a crash or the timeout rejects it. */
  #readiness(id: string): { promise: Promise<void>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#waiting.get(id) === entry) this.#waiting.delete(id);
      };
      const entry = {
        ready: () => {
          done();
          resolve();
        },
        failed: (e: AppError) => {
          done();
          reject(e);
        },
      };
      this.#waiting.set(id, entry);
      timer = setTimeout(
        () =>
          entry.failed(
            new AppError('TIMEOUT', `Bot ${id} was launched but did not come online within ${this.#readyMs(id) / 1000} s.`, {
              hint: `It may still be starting: check its status and logs (GET /bot-orchestration/bots/${id}/status). Its broker is ${this.d.brokerUrl()}.`,
            }),
          ),
        this.#readyMs(id),
      );
    });
    return {
      promise,
      cancel: () => {
        promise.catch(() => undefined);
        this.#waiting.get(id)?.failed(new AppError('INTERNAL', 'cancelled'));
      },
    };
  }

  #onPresence(p: Presence): void {
    if (p.kind === 'offline') return;
    this.#waiting.get(p.botId)?.ready();
    // Back after a broker outage or a restart: it may have sent fills while the server did not listen.
    if (p.kind === 'online' && !this.#closing) void this.#reconcile(p.botId);
  }

  /**
   * After the server's own broker connection came back (a broker restart): every bot meant to run is
   * asked for its fills once it has had time to reconnect, since what it sent meanwhile reached no one.
   */
  reconcileAll(afterMs = 2_000): void {
    const t = setTimeout(() => {
      void this.d.store
        .toRestore()
        .then((rows) => Promise.all(rows.map((r) => this.#reconcile(r.id))))
        .catch((err) => this.d.logger.warn('asking the bots for their fills after a reconnect failed', { err }));
    }, afterMs);
    t.unref();
  }

  #readyMs(id: string): number {
    return this.#readyMsOf.get(id) ?? this.#o.readyTimeoutMs;
  }

  #controllerType(name: string): string | null {
    try {
      return this.d.strategies.get?.('controller', name).type ?? null;
    } catch {
      return null;
    }
  }

  /**
   * A Hummingbot of current releases answers the start RPC with an error, stopped or not: a stopped bot's
   * container is started again (launched anew from its instance folder), and one whose container runs
   * without reporting (its strategy stopped) has its container restarted. One that runs is left as it is.
   */
  async #startHummingbot(row: BotRow, rt: BotRuntime): Promise<BotRow> {
    const id = row.id;
    const up = await rt.running(id);
    if (up && row.observedState === 'running' && (await this.#reporting(id))) return row;
    if (up) await this.#end(row, true);
    await this.#addLogs(id, [{ at: this.d.clock.date(), level: 'INFO', logger: 'server', message: `Start: its container was ${up ? 'restarted' : 'started again'} (a Hummingbot bot cannot start its strategy over MQTT; it starts it on launch).` }]);
    return this.#launch(await this.#row(id), true);
  }

  /**
   * A Hummingbot's config RPC fails when headless: its controller files are rewritten instead (a running
   * v2_with_controllers reloads them), and the stored config follows. Not running: the files are
   * written at its next launch from the stored config.
   */
  async #configHummingbot(row: BotRow, next: BotStrategy, live: boolean): Promise<{ bot: BotRow; applied: ConfigApplied; files?: string[] }> {
    const id = row.id;
    if (!live) return { bot: await this.d.store.updateStrategy(id, next), applied: 'stored' };
    const files = writeControllers(join(this.d.stateDir, id), { strategy: next, controllerType: (n) => this.#controllerType(n) });
    const bot = await this.d.store.updateStrategy(id, next);
    await this.#addLogs(id, [{ at: this.d.clock.date(), level: 'INFO', logger: 'server', message: `Config: rewrote ${files.join(', ')}; v2_with_controllers reloads its controller files while it runs.` }]);
    return { bot, applied: 'files', files };
  }

  /** Whether a Hummingbot bot sent a non-empty performance report lately (it sends one a second while its strategy runs, an empty one on stop). */
  async #reporting(id: string): Promise<boolean> {
    const [last] = await this.d.store.performanceHistory(id, { limit: 1 });
    return !!last && this.d.clock.now() - last.at.getTime() <= this.#o.hummingbotReportStaleMs && Object.keys(last.raw).length > 0;
  }

  /** A Hummingbot bot's status as the server sees it: container, heartbeats and the latest report per controller. */
  async #derivedStatus(bot: BotRow, containerRunning: boolean): Promise<Record<string, unknown>> {
    const now = this.d.clock.now();
    const beat = bot.lastHeartbeatAt;
    const beatAge = beat ? (now - beat.getTime()) / 1000 : null;
    const recent = await this.d.store.performanceHistory(bot.id, { limit: 50 });
    const latest = new Map<string, (typeof recent)[number]>();
    for (const r of recent) latest.set(r.controllerId, r);
    const reporting = containerRunning && (await this.#reporting(bot.id));
    const alive = containerRunning && beatAge !== null && beatAge * 1000 <= this.#o.staleAfterMs;
    const state = !containerRunning ? 'not_running' : !alive ? 'unreachable' : reporting ? 'running' : 'idle';
    return {
      derived: true,
      source: 'server',
      state,
      container_running: containerRunning,
      last_heartbeat_at: beat?.toISOString() ?? null,
      heartbeat_age_s: beatAge === null ? null : Math.round(beatAge * 10) / 10,
      strategy_reporting: reporting,
      controllers: [...latest.values()].map((r) => ({
        controller_id: r.controllerId,
        at: r.at.toISOString(),
        realized_pnl_quote: r.realizedPnlQuote === null ? null : Number(r.realizedPnlQuote),
        unrealized_pnl_quote: r.unrealizedPnlQuote === null ? null : Number(r.unrealizedPnlQuote),
        global_pnl_quote: r.globalPnlQuote === null ? null : Number(r.globalPnlQuote),
        volume_traded: r.volumeTraded === null ? null : Number(r.volumeTraded),
      })),
      note: 'Derived by the server from the container state, heartbeats (every 10 s) and performance reports (every second while the strategy runs): Hummingbot answers the status RPC with an error when headless.',
    };
  }

  /** Asks one bot for the fills it keeps (`history`) and stores those the server missed; a bot that cannot answer is left to the next time. */
  async #reconcile(id: string): Promise<void> {
    if (this.#closing || this.#stopping.has(id)) return;
    try {
      const reply = await this.#ask(id, 'history', { days: 0 });
      const trades = (reply as { trades?: unknown }).trades;
      if (reply.status !== 200 || !Array.isArray(trades) || trades.length === 0) return;
      const added = await this.d.ingest.storeHistory(id, trades);
      if (added) this.d.logger.info('stored fills a bot sent while the server was not listening', { bot_id: id, fills: added });
    } catch (err) {
      this.d.logger.debug('a bot did not list its fills', { bot_id: id, code: toAppError(err).code });
    }
  }

  /** Asks the bot to stop its strategy (when it runs and answers), then ends its process and records the stop. */
  async #end(row: BotRow, skipOrderCancellation: boolean): Promise<void> {
    const id = row.id;
    const rt = this.#runtimeOf(row);
    if (!(await rt.running(id))) {
      await this.d.store.endRun(id, { status: 'stopped' });
      if (row.observedState !== 'error') await this.#observe(id, { state: 'stopped' });
      return;
    }
    let finalStatus: unknown = { stop: 'not asked: the bot was unreachable; the process was ended.' };
    if (row.observedState !== 'unreachable') {
      try {
        finalStatus = await this.#ask(id, 'stop', { skip_order_cancellation: skipOrderCancellation });
      } catch (err) {
        const e = toAppError(err);
        finalStatus = { stop: `${e.code}: ${e.message} The process was ended.` };
        this.d.logger.warn('a bot did not answer its stop; ending its process', { bot_id: id, code: e.code });
      }
    }
    this.#stopping.set(id, { finalStatus });
    try {
      await rt.stop(id, this.#o.stopGraceMs);
      await this.#exits.get(id);
    } finally {
      this.#stopping.delete(id);
    }
  }

  #onExit(rt: BotRuntime, exit: BotExit): void {
    const expected = this.#stopping.has(exit.botId);
    const recording = this.#recordExit(rt, exit, expected, this.#stopping.get(exit.botId)).catch((err) => this.d.logger.error('a bot exit could not be recorded', { bot_id: exit.botId, err }));
    this.#exits.set(exit.botId, recording);
  }

  async #recordExit(rt: BotRuntime, exit: BotExit, expected: boolean, ending: { finalStatus: unknown; failed?: boolean } | undefined): Promise<void> {
    const id = exit.botId;
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    if (this.#closing && !expected) {
      // The server is shutting down and took its child processes with it: the next start launches them again.
      await this.d.store.endRun(id, { status: 'interrupted', exitCode: exit.code });
      await this.#observe(id, { state: 'stopped', exitCode: exit.code });
      return;
    }
    if (expected && ending?.failed) {
      // Ended because its start failed: what it wrote explains why, so it is kept as a crash's is.
      await this.d.ingest.flush();
      const at = this.d.clock.date();
      await this.#addLogs(id, exit.tail.map((message) => ({ at, level: 'ERROR', logger: OUTPUT_LOGGER, message })));
      await this.d.store.endRun(id, { status: 'error', exitCode: exit.code, finalStatus: ending.finalStatus });
      await this.#observe(id, { state: 'error', exitCode: exit.code });
      return;
    }
    if (expected) {
      await this.d.store.endRun(id, { status: 'stopped', exitCode: exit.code, finalStatus: ending?.finalStatus });
      await this.#observe(id, { state: 'stopped', exitCode: exit.code });
      return;
    }
    this.d.logger.warn('a bot ended on its own', { bot_id: id, runtime: rt.kind, code: exit.code, signal: exit.signal });
    // Its output first, so whoever sees the error state finds the lines that explain it, after what it
    // reported before dying (as far as it reached the server).
    await this.d.ingest.flush();
    const at = this.d.clock.date();
    await this.#addLogs(id, [
      ...exit.tail.map((message) => ({ at, level: 'ERROR', logger: OUTPUT_LOGGER, message })),
      { at, level: 'ERROR', logger: 'server', message: `The bot's process ended on its own (${how}).` },
    ]);
    await this.d.store.endRun(id, { status: 'error', exitCode: exit.code });
    await this.#observe(id, { state: 'error', exitCode: exit.code });
    this.#waiting.get(id)?.failed(
      new AppError('UPSTREAM_UNAVAILABLE', `Bot ${id} ended during its start (${how}).`, {
        hint: `Its last output lines are in its status and logs (GET /bot-orchestration/bots/${id}/status).`,
        details: { exit_code: exit.code, signal: exit.signal, tail: exit.tail.slice(-10) },
      }),
    );
  }

  /** After a server restart: a bot meant to run is taken back when its runtime still has it, else launched again. */
  async #restore(row: BotRow): Promise<void> {
    if (this.#closing) return;
    const rt = this.d.runtimes[row.runtime];
    if (!rt || !(await rt.available().catch(() => false))) {
      this.d.logger.warn('a bot meant to run cannot be brought back: its runtime is not available', { bot_id: row.id, runtime: row.runtime });
      await this.#observe(row.id, { state: 'error' });
      await this.#addLogs(row.id, [{ at: this.d.clock.date(), level: 'ERROR', logger: 'server', message: `Not restarted: the ${row.runtime} runtime is not available.` }]);
      return;
    }
    // Taken back first: a container that outlived the server runs, but nobody watches it for its end
    // until reattach() does (asking running() first would skip that and miss its crash).
    if (await rt.reattach(row.id)) {
      this.d.logger.info('bot taken back after a restart', { bot_id: row.id, runtime: rt.kind });
      await this.#addLogs(row.id, [{ at: this.d.clock.date(), level: 'INFO', logger: 'server', message: `Taken back after a server restart: its ${rt.kind === 'docker' ? 'container' : 'process'} was still running.` }]);
      return;
    }
    if (await rt.running(row.id)) return;
    const blocked = await this.#checkKillSwitch(row.accountName).then(() => null, (err: unknown) => toAppError(err));
    if (blocked) {
      this.d.logger.warn('a bot meant to run is not brought back: a kill switch covers its account', { bot_id: row.id });
      await this.#observe(row.id, { state: 'error' });
      await this.#addLogs(row.id, [{ at: this.d.clock.date(), level: 'ERROR', logger: 'server', message: `Not restarted: ${blocked.message}` }]);
      return;
    }
    this.d.logger.info('bot launched again after a restart', { bot_id: row.id, runtime: rt.kind });
    await this.#launch(row, false);
  }

  async #checkQuiet(): Promise<void> {
    try {
      const quiet = await this.d.store.markUnreachable(new Date(this.d.clock.now() - this.#o.staleAfterMs));
      if (quiet.length) this.d.logger.warn('bots stopped beating', { bot_ids: quiet.slice(0, 20), count: quiet.length });
      for (const id of quiet) this.#tellState(id, 'unreachable', null);
    } catch (err) {
      this.d.logger.warn('looking for quiet bots failed', { err });
    }
  }

  /** Records what was seen of a bot, and tells the live view. */
  async #observe(id: string, o: Observation): Promise<BotRow> {
    const row = await this.d.store.recordObserved(id, o);
    this.#tellState(id, row.observedState, row.exitCode);
    return row;
  }

  /** Writes log lines the server itself adds to a bot's log (a crash's last output, a refused launch), and tells the live view. */
  async #addLogs(id: string, lines: NewBotLog[]): Promise<void> {
    await this.d.store.addLogs(id, lines);
    const feed = this.d.feed;
    if (!feed?.listening) return;
    for (const l of lines) feed.publish({ bot_id: id, kind: 'log', data: { level: l.level, logger: l.logger ?? null, message: l.message }, at: l.at });
  }

  #tellState(id: string, state: string, exitCode: number | null): void {
    if (this.d.feed?.listening) this.d.feed.publishState(id, state, exitCode, this.d.clock.date());
  }

  async #ask(id: string, cmd: string, data: Record<string, unknown>): Promise<ResponseData> {
    const prefix = botPrefix(id);
    return this.d.bus.request(`${prefix}${cmd}`, data, { replyTo: RpcBus.replyTopic(`${prefix}reply`), timeoutMs: this.#o.rpcTimeoutMs, who: `bot ${id}` });
  }
}

/** Whether the bot runs a real Hummingbot client (its image says so). */
const isHummingbot = (row: BotRow) => row.runtime === 'docker' && isHummingbotImage(row.image);

/** A Hummingbot image runs in a container, and runs controllers (v2_with_controllers), never one of our scripts. */
function checkHummingbotDeploy(req: DeployBot, strategy: BotStrategy): void {
  const issues: Array<{ path: string; message: string }> = [];
  if (req.runtime === 'child') issues.push({ path: 'runtime', message: 'a Hummingbot image runs on the docker runtime' });
  if ('script' in strategy) issues.push({ path: 'script', message: 'a Hummingbot image runs controllers (v2_with_controllers), not one of our scripts' });
  if (issues.length) {
    throw new AppError('VALIDATION_FAILED', `Cannot deploy ${req.image}: ${issues.map((i) => i.message).join('; ')}.`, {
      hint: 'Deploy a Hummingbot image with controllers on the docker runtime, or leave image out to run our own bot.',
      details: { issues },
    });
  }
}

function refused(id: string, cmd: string, reply: ResponseData): AppError {
  return new AppError('UPSTREAM_REJECTED', `Bot ${id} refused ${cmd}: ${reply.msg || `status ${reply.status}`}.`, {
    hint: 'Fix what it names and retry; its logs may say more.',
    details: { status: reply.status, ...(reply.details ? { bot_details: reply.details } : {}) },
  });
}
