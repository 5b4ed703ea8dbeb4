import { z } from 'zod';
import type { BotStrategy } from '../db/schema/index.js';

/**
 * Where bots run: a child process of the server, or a Docker container (host networking). The
 * orchestrator drives every runtime through this one interface; a Kubernetes or Swarm runtime would be
 * one more implementation (see docs/bots.md, "Other runtimes").
 *
 * A bot is started with a launch spec and its broker login. It holds no exchange secret: everything it
 * trades or reads goes to the server over MQTT RPC (see gateway.ts).
 */

/** What a bot process is told at start (env `TRADEDESK_BOT`, JSON); its broker password comes apart, in env `TRADEDESK_BOT_PASSWORD`. */
export const BotLaunchSpec = z.strictObject({
  bot_id: z.string(),
  /** The one account its orders run on (the server fills it in; the bot uses it for its own bookkeeping). */
  account: z.string(),
  /** The broker URL as the bot reaches it, without credentials. */
  mqtt_url: z.string(),
  mqtt_username: z.string(),
  strategy: z.custom<BotStrategy>((v) => typeof v === 'object' && v !== null && ('controllers' in v || 'script' in v), 'strategy must hold controllers or a script'),
  /** Start the strategy at once (true), or wait for the start RPC. */
  autostart: z.boolean().default(true),
  /**
   * What a restarted process does with the executors its state dir says were running: carry on with
   * them (`resume`), or close their positions at market and cancel their orders (`flatten`), then start
   * afresh as `autostart` says. Defaulted so that a spec from before it existed still parses.
   */
  on_restart: z.enum(['resume', 'flatten']).default('resume'),
});
export type BotLaunchSpec = z.infer<typeof BotLaunchSpec>;

export const BOT_SPEC_ENV = 'TRADEDESK_BOT';
export const BOT_PASSWORD_ENV = 'TRADEDESK_BOT_PASSWORD';
/**
 * Where the broker password is instead, when it is not in `TRADEDESK_BOT_PASSWORD`: a file (0600) the bot
 * reads at start. The docker runtime uses it, since a container's environment shows in `docker inspect`.
 */
export const BOT_PASSWORD_FILE_ENV = 'TRADEDESK_BOT_PASSWORD_FILE';
/**
 * Set to 1 by the child runtime only: the bot's stdin is a pipe from the server, and its end (the server
 * died) makes the bot save its state and exit. Containers are not told: they outlive the server.
 */
export const BOT_EXIT_WITH_PARENT_ENV = 'TRADEDESK_BOT_EXIT_WITH_PARENT';
/** The directory a bot keeps its own state in (BotLaunch.stateDir; inside a container, the mounted volume). */
export const BOT_STATE_DIR_ENV = 'TRADEDESK_BOT_STATE_DIR';

export interface BotLaunch {
  spec: BotLaunchSpec;
  password: string;
  /** Docker only: the image to run (the admin's allow-list is checked before this). */
  image?: string | null;
  /** A directory the bot keeps its own state in (its executors, for a resume after a restart). */
  stateDir: string;
  /**
   * Docker only: the image is a real Hummingbot client, whose instance folder (hummingbot/instance.ts)
   * was written into `stateDir`; it is started with these instead of our launch spec.
   */
  hummingbot?: { configPassword: string; scriptConfig: string };
}

/** How a bot process ended, as its runtime saw it. */
export interface BotExit {
  botId: string;
  /** The exit code; null when it was killed by a signal. */
  code: number | null;
  signal: string | null;
  /** The last lines it wrote to stdout/stderr, oldest first (at most `TAIL_LINES`). */
  tail: string[];
}

/** The logger name, in a bot's log, of the last output lines its container left when it was removed. */
export const CONTAINER_OUTPUT_LOGGER = 'container.output';

/** Lines kept from a bot's output for a crash report. */
export const TAIL_LINES = 50;

export interface BotRuntime {
  readonly kind: 'child' | 'docker';
  /** Whether this runtime can start bots here now (docker: the daemon answers). */
  available(): Promise<boolean>;
  /** The broker URL its bots connect to, given the server's (docker: BOT_MQTT_URL when set); absent means the server's. */
  botBrokerUrl?(serverUrl: string): string;
  /** Starts the bot; resolves once its process or container runs. A bot already running under this id is an error. */
  launch(l: BotLaunch): Promise<void>;
  /** Asks the bot to end (SIGTERM), then kills it after `graceMs`; resolves once it has ended. A bot not running is a no-op. */
  stop(botId: string, graceMs: number): Promise<void>;
  /**
   * After a server restart: takes back a bot that still runs (docker: the container outlived the server)
   * and returns true; false when there is nothing to take back (a child process dies with its server).
   */
  reattach(botId: string): Promise<boolean>;
  /** Whether the bot's process or container runs now. */
  running(botId: string): Promise<boolean>;
  /** Called once per process or container end, expected or not. */
  onExit(listener: (exit: BotExit) => void): void;
  /**
   * What the bot's ended process left: its exit code (null while it runs or when none is known) and the
   * last lines it wrote. Docker only (a container keeps its log until it is removed); null when there is
   * no container.
   */
  lastOutput?(botId: string): Promise<{ code: number | null; tail: string[] } | null>;
  /** Forgets everything about the bot (docker: removes its stopped container). */
  remove(botId: string): Promise<void>;
  /** Stops watching (the bots themselves keep running: a restarted server takes them back or restarts them). */
  close(): Promise<void>;
}
