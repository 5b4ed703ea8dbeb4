import { bigint, bigserial, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { Channel } from '../../command/types.js';

const amount = (name: string) => numeric(name, { precision: 38, scale: 18 });
const at = (name: string) => timestamp(name, { withTimezone: true });

export const BOT_RUNTIMES = ['child', 'docker'] as const;
export type BotRuntime = (typeof BOT_RUNTIMES)[number];
export const BOT_DESIRED_STATES = ['running', 'stopped'] as const;
export type BotDesiredState = (typeof BOT_DESIRED_STATES)[number];
export const BOT_OBSERVED_STATES = ['starting', 'running', 'stopped', 'error', 'unreachable'] as const;
export type BotObservedState = (typeof BOT_OBSERVED_STATES)[number];
/** What a restarted bot process does with the executors it was running: carry on with them, or close them out and start afresh. */
export const BOT_ON_RESTART = ['resume', 'flatten'] as const;
export type BotOnRestart = (typeof BOT_ON_RESTART)[number];
/** How a run ended: `interrupted` when a new run began while this one was still open (the server died under it). */
export const BOT_RUN_STATUSES = ['running', 'stopped', 'error', 'interrupted'] as const;
export type BotRunStatus = (typeof BOT_RUN_STATUSES)[number];

/** Who deployed the bot, kept as at deploy time (as for executors): `stored` says whether it is a stored user to re-read. */
export interface BotOwner {
  name: string;
  role: 'admin' | 'trader' | 'viewer';
  accounts: string[] | null;
  stored: boolean;
}

/** What the bot runs: saved controller configs, or one script with its config. */
export type BotStrategy =
  | { controllers: Array<{ controller_name: string; config: Record<string, unknown> }> }
  | { script: { name: string; config: Record<string, unknown> } };

/**
 * One row per bot ever deployed. `desired_state` is what the server keeps it at (a restarted server
 * restarts the bots that should run); `observed_state` is what heartbeats and the runtime last said.
 * Archiving stops the bot for good but keeps the row and everything under it readable. `log_seq` is the
 * last log sequence number handed out: bumping it locks the row, which serializes a bot's log writes so
 * its bound can be kept with one range delete.
 */
export const bots = pgTable(
  'bots',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    accountName: text('account_name').notNull(),
    ownerName: text('owner_name').notNull(),
    owner: jsonb('owner').$type<BotOwner>().notNull(),
    channel: text('channel').$type<Channel>().notNull(),
    runtime: text('runtime', { enum: BOT_RUNTIMES }).notNull(),
    image: text('image'),
    strategy: jsonb('strategy').$type<BotStrategy>().notNull(),
    desiredState: text('desired_state', { enum: BOT_DESIRED_STATES }).notNull(),
    observedState: text('observed_state', { enum: BOT_OBSERVED_STATES }).notNull(),
    onRestart: text('on_restart', { enum: BOT_ON_RESTART }).notNull().default('resume'),
    exitCode: integer('exit_code'),
    lastHeartbeatAt: at('last_heartbeat_at'),
    logSeq: bigint('log_seq', { mode: 'number' }).notNull().default(0),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
    archivedAt: at('archived_at'),
  },
  (t) => [index('bots_owner_created_idx').on(t.ownerName, t.createdAt), index('bots_created_idx').on(t.createdAt, t.id)],
);
export type BotRow = typeof bots.$inferSelect;

/** One row per start of a bot; a stop (or crash) closes it with how it ended. */
export const botRuns = pgTable(
  'bot_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    botId: text('bot_id').notNull().references(() => bots.id, { onDelete: 'cascade' }),
    startedAt: at('started_at').notNull(),
    stoppedAt: at('stopped_at'),
    status: text('status', { enum: BOT_RUN_STATUSES }).notNull(),
    exitCode: integer('exit_code'),
    /** The bot's last status report when the run ended (what Hummingbot's `status` answered), if any. */
    finalStatus: jsonb('final_status'),
  },
  (t) => [index('bot_runs_bot_started_idx').on(t.botId, t.startedAt)],
);
export type BotRunRow = typeof botRuns.$inferSelect;

/** A bot's events (`hbot/<id>/events`), each stored once: `event_id` dedupes a QoS 1 redelivery. */
export const botEvents = pgTable(
  'bot_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    botId: text('bot_id').notNull().references(() => bots.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    at: at('at').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [uniqueIndex('bot_events_bot_event_unique').on(t.botId, t.eventId), index('bot_events_bot_at_idx').on(t.botId, t.at)],
);
export type BotEventRow = typeof botEvents.$inferSelect;

/** A bot's fills, each stored once by its fill id. */
export const botFills = pgTable(
  'bot_fills',
  {
    botId: text('bot_id').notNull().references(() => bots.id, { onDelete: 'cascade' }),
    fillId: text('fill_id').notNull(),
    clientOrderId: text('client_order_id').notNull(),
    tradingPair: text('trading_pair').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    price: amount('price').notNull(),
    amount: amount('amount').notNull(),
    fee: amount('fee').notNull(),
    feeAsset: text('fee_asset'),
    at: at('at').notNull(),
  },
  (t) => [primaryKey({ name: 'bot_fills_pk', columns: [t.botId, t.fillId] }), index('bot_fills_bot_at_idx').on(t.botId, t.at, t.fillId)],
);
export type BotFillRow = typeof botFills.$inferSelect;

/** Snapshots of a controller's PerformanceReport: the headline figures as numeric, the whole report as sent in `raw`. */
export const botPerformance = pgTable(
  'bot_performance',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    botId: text('bot_id').notNull().references(() => bots.id, { onDelete: 'cascade' }),
    controllerId: text('controller_id').notNull(),
    at: at('at').notNull(),
    realizedPnlQuote: amount('realized_pnl_quote'),
    unrealizedPnlQuote: amount('unrealized_pnl_quote'),
    unrealizedPnlPct: amount('unrealized_pnl_pct'),
    realizedPnlPct: amount('realized_pnl_pct'),
    globalPnlQuote: amount('global_pnl_quote'),
    globalPnlPct: amount('global_pnl_pct'),
    volumeTraded: amount('volume_traded'),
    raw: jsonb('raw').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('bot_performance_bot_controller_at_idx').on(t.botId, t.controllerId, t.at), index('bot_performance_bot_at_idx').on(t.botId, t.at)],
);
export type BotPerformanceRow = typeof botPerformance.$inferSelect;

/** A bot's newest log lines (a bounded number per bot; older ones are deleted as new ones come). */
export const botLogs = pgTable(
  'bot_logs',
  {
    botId: text('bot_id').notNull().references(() => bots.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    at: at('at').notNull(),
    level: text('level').notNull(),
    logger: text('logger'),
    message: text('message').notNull(),
  },
  (t) => [primaryKey({ name: 'bot_logs_pk', columns: [t.botId, t.seq] })],
);
export type BotLogRow = typeof botLogs.$inferSelect;
