import { bigserial, index, jsonb, pgTable, real, text, timestamp } from 'drizzle-orm/pg-core';

/** One row per command call from either face, successful or not. Append-only. */
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
  },
  (t) => [index('audit_events_at_idx').on(t.at), index('audit_events_command_idx').on(t.command, t.at)],
);

export type AuditEventRow = typeof auditEvents.$inferSelect;
