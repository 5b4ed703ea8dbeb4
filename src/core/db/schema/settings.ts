import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Small server-wide facts that must survive restarts (the vault key fingerprint, first-start markers). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
