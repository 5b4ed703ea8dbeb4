import type { Channel } from '../command/types.js';
import type { Decimal } from '../decimal.js';
import type { BotDesiredState, BotObservedState, BotOnRestart, BotOwner, BotRunStatus, BotRuntime, BotStrategy } from '../db/schema/index.js';

/** What the store is told of a bot at deploy time. */
export interface NewBot {
  id: string;
  name: string;
  accountName: string;
  owner: BotOwner;
  channel: Channel;
  runtime: BotRuntime;
  image: string | null;
  strategy: BotStrategy;
  desiredState: BotDesiredState;
  /** Unset: resume (the column's default). */
  onRestart?: BotOnRestart;
}

/** Who is listing bots: a user sees the bots it deployed, within its accounts; an admin (nulls) sees all. */
export interface BotViewer {
  /** null: any owner. */
  owner: string | null;
  /** null: any account. */
  accounts: readonly string[] | null;
}

export interface BotListFilter {
  desired?: BotDesiredState;
  observed?: BotObservedState;
  /** Archived bots are left out unless asked for. */
  includeArchived?: boolean;
  limit: number;
  cursor?: string;
}

export interface Observation {
  state: BotObservedState;
  /** Set when the process ended (kept as it was when omitted). */
  exitCode?: number | null;
  /** Set when the observation is a heartbeat (kept as it was when omitted). */
  heartbeatAt?: Date;
}

export interface RunEnd {
  status: Exclude<BotRunStatus, 'running'>;
  exitCode?: number | null;
  finalStatus?: unknown;
}

/** One event as the bot published it; `eventId` is what makes a redelivered event a no-op. */
export interface NewBotEvent {
  eventId: string;
  type: string;
  at: Date;
  data: Record<string, unknown>;
}

export interface NewBotFill {
  fillId: string;
  clientOrderId: string;
  tradingPair: string;
  side: 'buy' | 'sell';
  price: Decimal | string;
  amount: Decimal | string;
  fee: Decimal | string;
  feeAsset?: string | null;
  at: Date;
}

export interface NewBotLog {
  at: Date;
  level: string;
  logger?: string | null;
  message: string;
}

export interface Page<T> {
  data: T[];
  pagination: { limit: number; has_more: boolean; next_cursor: string | null };
}

export interface PerformanceQuery {
  controllerId?: string;
  from?: Date;
  to?: Date;
  limit: number;
}
