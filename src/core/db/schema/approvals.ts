import { index, jsonb, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Orders parked until a person approves them (an account whose policy says `confirmation: human`).
 * An approval is bound to one exact order of one principal by `fingerprint`; it is used at most once.
 * A pending row past `expires_at` counts as expired whatever its stored status says.
 */
export const approvals = pgTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    fingerprint: text('fingerprint').notNull(),
    /** The order's fields as the guard saw them (account, connector, pair, side, type, amount, price…). */
    order: jsonb('order').$type<Record<string, string | number | boolean | null>>().notNull(),
    requester: text('requester').notNull(),
    channel: text('channel').notNull(),
    accountName: text('account_name').notNull(),
    notional: numeric('notional'),
    status: text('status', { enum: ['pending', 'approved', 'rejected', 'expired', 'used'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decidedBy: text('decided_by'),
    /** The decider's note: short free text, untrusted for whoever reads it. */
    reason: text('reason'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [index('approvals_requester_fingerprint_idx').on(t.requester, t.fingerprint), index('approvals_status_idx').on(t.status, t.createdAt)],
);

export type ApprovalRow = typeof approvals.$inferSelect;
