import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { RpcBus } from '../core/bots/bus.js';
import { mqttLink } from '../core/bots/link.js';
import { BOT_EXIT_WITH_PARENT_ENV, BOT_PASSWORD_ENV, BOT_PASSWORD_FILE_ENV, BOT_SPEC_ENV, BOT_STATE_DIR_ENV, BotLaunchSpec } from '../core/bots/runtime.js';
import { botClientId, botPrefix, isBotId } from '../core/bots/topics.js';
import { systemClock } from '../core/clock.js';
import { toAppError } from '../core/errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../core/logger.js';
import { SHIPPED_CONTROLLERS } from '../core/strategy/controllers/index.js';
import { createExecutor, restoreExecutor } from '../core/strategy/executors/registry.js';
import { SHIPPED_SCRIPTS } from '../core/strategy/scripts/index.js';
import { StrategyCatalog } from '../core/strategy-catalog/catalog.js';
import type { ControllerDefinition } from '../core/strategy/controller.js';
import type { ScriptDefinition } from '../core/strategy/script.js';
import { BotAgent } from './agent.js';
import { BotHost } from './host.js';
import { RpcMarketSource, RpcOrderActions, ServerRpc } from './server-rpc.js';
import { StateFile } from './state-file.js';

/**
 * `tradedesk bot`: one bot process. It is told everything by its environment (runtime.ts: the launch
 * spec in TRADEDESK_BOT, its broker password in the file TRADEDESK_BOT_PASSWORD_FILE names, or in TRADEDESK_BOT_PASSWORD), opens no database and holds no
 * exchange secret: it logs in to the broker as `hbot.<id>`, serves the Hummingbot RPCs (BotAgent) and
 * runs its strategy (BotHost), every order and market read an RPC to the server.
 *
 * Exit codes: 2 for a spec it cannot run (told on stderr), 0 after SIGTERM/SIGINT (strategy suspended
 * in its state dir for the next process to resume, or without one stopped with its orders cancelled;
 * offline said), 0 too when its server went away (with TRADEDESK_BOT_EXIT_WITH_PARENT=1: stdin closed;
 * strategy saved as running for the next process, nothing cancelled), 1 on an unexpected failure.
 */

export class SpecError extends Error {}

/** The launch spec and password from the environment, or a SpecError saying what is wrong. */
export function readLaunch(env: NodeJS.ProcessEnv): { spec: BotLaunchSpec; password: string } {
  const raw = env[BOT_SPEC_ENV];
  if (!raw) throw new SpecError(`${BOT_SPEC_ENV} is not set: it holds the bot's launch spec as JSON (the server sets it when it starts a bot).`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new SpecError(`${BOT_SPEC_ENV} is not JSON: ${(err as Error).message}`);
  }
  const parsed = BotLaunchSpec.safeParse(json);
  if (!parsed.success) throw new SpecError(`${BOT_SPEC_ENV} is not a valid launch spec: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  if (!isBotId(parsed.data.bot_id)) throw new SpecError(`${BOT_SPEC_ENV}: bot_id ${JSON.stringify(parsed.data.bot_id)} is not a bot id (1-63 lowercase letters, digits, "-" or "_").`);
  return { spec: parsed.data, password: readPassword(env) };
}

/** The broker password: from the file TRADEDESK_BOT_PASSWORD_FILE names (the docker runtime's way: not in `docker inspect`), else TRADEDESK_BOT_PASSWORD. */
function readPassword(env: NodeJS.ProcessEnv): string {
  const file = env[BOT_PASSWORD_FILE_ENV];
  if (file) {
    let password: string;
    try {
      password = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new SpecError(`${BOT_PASSWORD_FILE_ENV} names ${file}, which cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!password) throw new SpecError(`${BOT_PASSWORD_FILE_ENV} names ${file}, which is empty.`);
    return password;
  }
  const password = env[BOT_PASSWORD_ENV];
  if (!password) throw new SpecError(`Neither ${BOT_PASSWORD_FILE_ENV} nor ${BOT_PASSWORD_ENV} is set: the bot's broker password.`);
  return password;
}

export interface RunningBot {
  /** Stops the strategy (cancelling its orders unless told not to), says offline and disconnects. */
  shutdown(): Promise<void>;
  /**
   * For a bot whose server went away: stops stepping but keeps its strategy as running in its saved
   * state (the next process resumes it), says offline if the broker still listens, and disconnects;
   * bounded in time, since neither the server nor perhaps the broker answers any more.
   */
  detach(): Promise<{ saved: boolean }>;
  client: MqttClient;
}

/** Starts the bot; rejects with a SpecError for a spec it cannot run, another error when it cannot start. */
export async function startBot(env: NodeJS.ProcessEnv): Promise<RunningBot> {
  const { spec, password } = readLaunch(env);
  const level = env.LOG_LEVEL && (LOG_LEVELS as readonly string[]).includes(env.LOG_LEVEL) ? (env.LOG_LEVEL as LogLevel) : 'info';
  const logger = createLogger(level, { bot_id: spec.bot_id });
  const catalog = new StrategyCatalog({ controllers: SHIPPED_CONTROLLERS, scripts: SHIPPED_SCRIPTS, dir: env.STRATEGIES_DIR || undefined, logger });
  await catalog.start();
  const strategies = {
    controller: (name: string): ControllerDefinition | undefined => catalog.controller(name)?.definition,
    script: (name: string): ScriptDefinition | undefined => (catalog.list('script').find((e) => e.name === name)?.definition as ScriptDefinition | undefined),
  };
  const clock = systemClock;
  try {
    BotHost.check(spec.strategy, strategies);
  } catch (err) {
    throw new SpecError(`the launch spec's strategy cannot run: ${toAppError(err).message}`);
  }
  const client = await mqtt.connectAsync(spec.mqtt_url, {
    clientId: botClientId(spec.bot_id),
    username: spec.mqtt_username,
    password,
    clean: true,
    // After a broker restart: connect again every second, and subscribe again (mqtt.js does on reconnect).
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    will: { topic: `${botPrefix(spec.bot_id)}status_updates`, payload: Buffer.from(JSON.stringify({ type: 'availability', msg: 'offline' })), qos: 1, retain: false },
    // The first connect fails at once (a wrong login, no broker): the runtime sees the exit and says why.
  }, false);
  client.on('error', (err) => logger.warn('broker connection error', { err }));
  const link = mqttLink(client);
  const bus = new RpcBus(link, { clock, nodeId: spec.bot_id, replies: ServerRpc.repliesFilter(spec.bot_id), logger });
  await bus.start();
  const rpc = new ServerRpc(bus, spec.bot_id);
  let agent: BotAgent | undefined;
  const host = new BotHost({
    spec,
    strategies,
    orders: new RpcOrderActions(rpc),
    market: new RpcMarketSource(rpc),
    clock,
    createExecutor,
    restoreExecutor,
    state: env[BOT_STATE_DIR_ENV] ? new StateFile(env[BOT_STATE_DIR_ENV]) : undefined,
    publishEvent: (event) => link.publish(`${botPrefix(spec.bot_id)}events`, JSON.stringify(event), 1),
    log: (lvl, msg) => {
      logger[lvl === 'warning' ? 'warn' : lvl](msg);
      void agent?.log(lvl, msg).catch(() => undefined);
    },
  });
  agent = new BotAgent({ botId: spec.bot_id, link, bus, clock, host });
  // A restarted bot carries on with what it ran, or flattens it (its spec's on_restart) and then starts
  // afresh as a new one does when its spec says so; a flatten that left executors open starts nothing.
  const restart = await host.resume();
  if ((restart === 'none' || restart === 'flattened') && spec.autostart) await host.start();
  await agent.start();
  client.on('connect', () => void agent!.announce().catch(() => undefined));
  logger.info('bot started', { account: spec.account, strategy: 'script' in spec.strategy ? spec.strategy.script.name : spec.strategy.controllers.map((c) => c.controller_name), running: host.running(), restart });
  return {
    client,
    async shutdown() {
      // Ended from outside (a signal): suspended, not stopped, so its next process resumes it. A stop
      // (which cancels its orders) comes as the stop request, before the server ends the process.
      // Without a state dir nothing could resume it, so it stops (its orders cancelled).
      if (host.resumable()) await host.suspend(SHUTDOWN_STEP_MS).catch((err) => logger.warn('the strategy did not save its state cleanly', { err }));
      else if (host.running()) await host.stop({ skipOrderCancellation: false }).catch((err) => logger.warn('the strategy did not stop cleanly', { err }));
      await agent!.shutdown();
      await client.endAsync();
    },
    async detach() {
      const saved = await host.suspend(DETACH_STEP_MS).catch((err: unknown) => {
        logger.warn('saving the state failed', { err });
        return false;
      });
      // The embedded broker died with the server: a QoS 1 publish would wait for it forever.
      await within(DETACH_SAY_MS, agent!.shutdown());
      await within(DETACH_SAY_MS, client.endAsync(true));
      return { saved };
    },
  };
}

/** How long a bot ended by a signal lets the step in flight end before saving its state (its server is alive). */
const SHUTDOWN_STEP_MS = 10_000;
/** How long a detaching bot lets the step in flight end before saving its state. */
const DETACH_STEP_MS = 2_000;
/** How long it tries to say offline, and to disconnect. */
const DETACH_SAY_MS = 1_000;

const within = (ms: number, p: Promise<unknown>) => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
};

/** The `bot` subcommand: resolves with the exit code when it ends before running, -1 while it runs (it exits by itself on a signal). */
export async function runBot(env: NodeJS.ProcessEnv): Promise<number> {
  let bot: RunningBot;
  try {
    bot = await startBot(env);
  } catch (err) {
    if (err instanceof SpecError) {
      process.stderr.write(`tradedesk bot: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`tradedesk bot: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void bot
      .shutdown()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        process.stderr.write(`tradedesk bot: shutdown on ${signal} failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      });
  };
  if (env[BOT_EXIT_WITH_PARENT_ENV] === '1') {
    // Set by the child runtime only: stdin is a pipe from the server, never written, so its end is the
    // server's end, however it died (SIGKILL too). A bot left running would trade unattended.
    const gone = () => {
      if (stopping) return;
      stopping = true;
      process.stderr.write('tradedesk bot: the server went away (stdin closed); saving state and exiting\n');
      void bot
        .detach()
        .then(({ saved }) => {
          process.stderr.write(`tradedesk bot: ${saved ? 'state saved' : 'the last saved state stands'}; exiting\n`);
          process.exit(0);
        })
        .catch(() => process.exit(1));
    };
    // Its stdout and stderr are pipes to the same dead server: a write then fails (EPIPE), which must
    // not end the bot before it saved its state.
    process.stdout.on('error', () => undefined);
    process.stderr.on('error', () => undefined);
    process.stdin.on('end', gone);
    process.stdin.on('close', gone);
    process.stdin.on('error', gone);
    process.stdin.resume();
  }
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (err) => {
    process.stderr.write(`tradedesk bot: ${err.message}\n`);
    process.exit(1);
  });
  return -1;
}
