import { index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { Channel } from '../../command/types.js';

export const EXECUTOR_ROW_STATUSES = ['active', 'shutting_down', 'terminated'] as const;
export type ExecutorRowStatus = (typeof EXECUTOR_ROW_STATUSES)[number];

/** One order action an executor asked for and the server has not yet had an answer to. */
export type OutboxEntry =
  | { kind: 'submit'; order: Record<string, unknown> }
  | { kind: 'cancel'; client_order_id: string };

/** Bookkeeping of the live order path beside the executor's own state (see executor-service.ts). */
export interface ExecutorRuntime {
  /** The last client order id sequence number handed out. */
  order_seq: number;
  /** Fills already delivered to the executor, per client order id. */
  fills_seen: Record<string, number>;
  /** The order state last delivered, per client order id, so an unchanged order is not re-sent. */
  last_seen: Record<string, string>;
  error_count: number;
  last_error: string | null;
}

/** Who created the executor, kept so its orders run as that principal after a restart. */
export interface ExecutorPrincipal {
  name: string;
  role: 'admin' | 'trader' | 'viewer';
  accounts: string[] | null;
  /** A stored user (re-read before each order, so a removal or demotion applies); else the snapshot is used. */
  stored: boolean;
  channel: Channel;
}

/**
 * Executors run by the server itself (the executors service, not a bot). `state` is the executor's own
 * `state()`, from which it is restored exactly after a restart; `outbox` holds the order actions it asked
 * for that have not been answered yet, written in the same row update as the state that asked for them,
 * so a crash between the two is impossible and a crash after it only re-sends them (client order ids make
 * that a replay). `report` is the last report, PnL numbers as decimal strings. `runner` is the process
 * that ticks it and `heartbeat_at` the last time that process said so: an executor whose runner went
 * quiet is picked up by another (or the next) process.
 */
export const executors = pgTable(
  'executors',
  {
    id: text('id').primaryKey(),
    accountName: text('account_name').notNull(),
    connectorName: text('connector_name').notNull(),
    tradingPair: text('trading_pair').notNull(),
    type: text('type').notNull(),
    side: text('side'),
    controllerId: text('controller_id'),
    config: jsonb('config').notNull(),
    state: jsonb('state').notNull(),
    runtime: jsonb('runtime').$type<ExecutorRuntime>().notNull(),
    outbox: jsonb('outbox').$type<OutboxEntry[]>().notNull(),
    status: text('status', { enum: EXECUTOR_ROW_STATUSES }).notNull(),
    closeType: text('close_type'),
    report: jsonb('report').$type<Record<string, unknown>>(),
    stopRequest: jsonb('stop_request').$type<{ keep_position: boolean; by: string }>(),
    createdBy: text('created_by').notNull(),
    principal: jsonb('principal').$type<ExecutorPrincipal>().notNull(),
    runner: text('runner'),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
  },
  (t) => [
    index('executors_created_idx').on(t.createdAt, t.id),
    index('executors_status_idx').on(t.status),
    index('executors_account_created_idx').on(t.accountName, t.createdAt),
  ],
);

export type ExecutorRow = typeof executors.$inferSelect;
