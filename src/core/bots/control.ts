import type { Channel } from '../command/types.js';
import type { BotEventRow, BotFillRow, BotLogRow, BotOnRestart, BotOwner, BotPerformanceRow, BotRow, BotRunRow, BotRuntime as BotRuntimeKind, BotStrategy } from '../db/schema/index.js';
import type { BotListFilter, BotViewer, Page, PerformanceQuery } from './bot-records.js';

/**
 * What the bot commands (REST and MCP) ask of the orchestrator. Every method that talks to a bot
 * (start, stop, config, status) waits for the bot's correlated reply and throws an AppError TIMEOUT
 * ("no reply") when none comes, never fire-and-forget; a refusal by the bot is an AppError with its
 * reason. Access (who may see or change which bot) is the commands' business, not this interface's.
 */
export interface BotControl {
  /** Creates the bot (its row, its broker login) and, unless `start` is false, launches it and waits until it reports running. */
  deploy(req: DeployBot): Promise<BotRow>;
  get(id: string): Promise<BotRow | undefined>;
  list(viewer: BotViewer, f: BotListFilter): Promise<Page<BotRow>>;
  /** Launches a stopped bot (its process or container), or asks a running one's strategy to start; desired state becomes running. */
  start(id: string): Promise<BotRow>;
  /** Asks the bot to stop its strategy, then ends its process; desired state becomes stopped. */
  stop(id: string, opts: { skipOrderCancellation: boolean }): Promise<BotRow>;
  /** Sends validated changes to a running bot and stores them; a stopped bot's stored config is changed alone. */
  updateConfig(id: string, strategy: BotStrategy): Promise<{ bot: BotRow; applied: ConfigApplied; files?: string[] }>;
  /** The bot's state as the server sees it, plus the bot's own status answer when it runs (null when it does not). */
  status(id: string): Promise<BotStatus>;
  logs(id: string, q: { limit: number; level?: string }): Promise<BotLogRow[]>;
  fills(id: string, p: { limit: number; cursor?: string }): Promise<Page<BotFillRow>>;
  events(id: string, q: { type?: string; limit: number }): Promise<BotEventRow[]>;
  performance(id: string, q: PerformanceQuery): Promise<BotPerformanceRow[]>;
  runs(id: string, limit?: number): Promise<BotRunRow[]>;
  /** Loading a strategy file into a running bot: neither kind of bot does it (NOT_SUPPORTED, nothing is sent). */
  importStrategy(id: string, name: string): Promise<never>;
  /** Stops the bot for good (if it runs), removes its runtime leftovers and broker login; everything it reported stays readable. */
  archive(id: string, opts?: ArchiveOptions): Promise<BotRow>;
  /** The kill switch's `stop_bots`: stops every running bot trading one of `accounts` (null: every bot). Returns the ids stopped. */
  stopBotsFor(accounts: readonly string[] | null, reason: string): Promise<string[]>;
}

/**
 * How a config change reached the bot: `bot` it took it over MQTT; `files` its controller files were
 * rewritten (a Hummingbot, which reloads them: `files` names them); `stored` kept for its next start.
 */
export type ConfigApplied = 'bot' | 'files' | 'stored';

export interface ArchiveOptions {
  /**
   * Keep what its container leaves before it goes (its exit code on its last run, its last output lines in
   * its log), under this reason: for a removal of the container, after which docker keeps nothing.
   */
  keepOutput?: { reason: string };
}

export interface DeployBot {
  id: string;
  /** A display name (defaults to the id). */
  name?: string;
  accountName: string;
  owner: BotOwner;
  channel: Channel;
  /** Unset: docker when a daemon answers, else child. */
  runtime?: BotRuntimeKind;
  image?: string | null;
  strategy: BotStrategy;
  /** false: create it stopped. */
  start?: boolean;
  /** What a restarted process does with the executors it was running (unset: resume). */
  onRestart?: BotOnRestart;
}

export interface BotStatus {
  bot: BotRow;
  /** The last run (open while the bot runs). */
  run: BotRunRow | null;
  /** The bot's answer to the status RPC, or for a Hummingbot bot what the server derived; null when there is neither. */
  live: Record<string, unknown> | null;
  /** `bot`: the bot answered; `derived`: the server derived it from heartbeats, reports and the container (a Hummingbot cannot answer). */
  liveSource: 'bot' | 'derived' | null;
  /** Set when the bot ended on its own: exit code and its last output lines. */
  crash: { exitCode: number | null; tail: string[] } | null;
  /** Its newest log lines (up to 20), newest last. */
  recentLogs: BotLogRow[];
}
