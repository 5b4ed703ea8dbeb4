import { bigserial, boolean, index, jsonb, numeric, pgTable, real, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per command call from either face, successful, failed or refused. Also the trading journal:
 * an order's row is written as `PENDING` before anything is sent and completed with the outcome, and
 * the rolling 24 h notional, the orders-per-minute count and the duplicate window are read from it, so
 * they survive restarts. Rows are never deleted; only a PENDING row's outcome is completed.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    channel: text('channel').notNull(),
    principal: text('principal').notNull(),
    command: text('command').notNull(),
    risk: text('risk'),
    input: jsonb('input'),
    outcome: text('outcome').notNull(),
    durationMs: real('duration_ms').notNull(),
    requestId: text('request_id'),
    accountName: text('account_name'),
    /** The order's value in USDT when it was checked; null when it could not be valued or is not an order.
     *  Unbounded: an absurd order (a huge amount at a real price) is still journaled, and refused. */
    notional: numeric('notional'),
    /** True for a risk-increasing order: it counts towards the 24 h budget and the per-minute rate. */
    countsToBudget: boolean('counts_to_budget').notNull().default(false),
    /** Hash of the order without its client id: the duplicate-order window compares these. */
    fingerprint: text('fingerprint'),
    /** Why a guard refused, or the limits checked: small structured facts, never secrets. */
    detail: jsonb('detail'),
  },
  (t) => [
    index('audit_events_at_idx').on(t.at),
    index('audit_events_command_idx').on(t.command, t.at),
    index('audit_events_account_idx').on(t.accountName, t.at),
  ],
);

export type AuditEventRow = typeof auditEvents.$inferSelect;
