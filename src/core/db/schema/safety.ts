import { boolean, integer, jsonb, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { accounts } from './accounts.js';

/**
 * What an account may do, per account. Only admin REST commands write it; no MCP tool can. An account
 * without a row has the defaults: paper mode, no caps. Notional amounts are in USDT.
 */
export const accountPolicies = pgTable('account_policies', {
  accountName: text('account_name')
    .primaryKey()
    .references(() => accounts.name, { onDelete: 'cascade' }),
  mode: text('mode', { enum: ['disabled', 'paper', 'live'] }).notNull().default('paper'),
  /** null with `orderCapDecided` = an explicit "none"; null without = never decided (live refuses that). */
  maxOrderNotional: numeric('max_order_notional', { precision: 38, scale: 18 }),
  orderCapDecided: boolean('order_cap_decided').notNull().default(false),
  maxDailyNotional: numeric('max_daily_notional', { precision: 38, scale: 18 }),
  maxPositionNotional: numeric('max_position_notional', { precision: 38, scale: 18 }),
  maxLeverage: integer('max_leverage'),
  allowedPairs: jsonb('allowed_pairs').$type<string[]>(),
  deniedPairs: jsonb('denied_pairs').$type<string[]>().notNull().default([]),
  maxOrdersPerMinute: integer('max_orders_per_minute'),
  duplicateWindowSeconds: integer('duplicate_window_seconds'),
  confirmAboveNotional: numeric('confirm_above_notional', { precision: 38, scale: 18 }),
  /** Who confirms an order above the threshold: the caller with a preview token, or another person over REST. */
  confirmation: text('confirmation', { enum: ['token', 'human'] }).notNull().default('token'),
  updatedBy: text('updated_by').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Active kill switches: scope `*` is the global one, any other scope an account name. Deleting a row clears it. */
export const killSwitches = pgTable('kill_switches', {
  scope: text('scope').primaryKey(),
  reason: text('reason').notNull(),
  setBy: text('set_by').notNull(),
  setAt: timestamp('set_at', { withTimezone: true }).notNull().defaultNow(),
});

export type AccountPolicyRow = typeof accountPolicies.$inferSelect;
export type KillSwitchRow = typeof killSwitches.$inferSelect;
