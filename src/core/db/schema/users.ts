import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** People and agents that may call the server. Passwords are stored as scrypt hashes only. */
export const users = pgTable('users', {
  username: text('username').primaryKey(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ['admin', 'trader', 'viewer'] }).notNull(),
  /** The accounts the user may see and trade; null = all. Ignored for admins. */
  accounts: jsonb('accounts').$type<string[]>(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type UserRow = typeof users.$inferSelect;
