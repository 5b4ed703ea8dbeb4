import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The broker credentials of each bot. `passwordHash` (scrypt, as for users) is what a CONNECT is checked
 * against; `passwordBox` is the same password sealed by the vault, because the server must hand it to
 * the bot again when it redeploys it (an env var for our bot, conf_client.yml for Hummingbot).
 */
export const botCredentials = pgTable('bot_credentials', {
  botId: text('bot_id').primaryKey(),
  username: text('username').notNull().unique('bot_credentials_username_unique'),
  passwordHash: text('password_hash').notNull(),
  passwordBox: text('password_box').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type BotCredentialsRow = typeof botCredentials.$inferSelect;
