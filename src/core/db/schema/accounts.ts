import { sql } from 'drizzle-orm';
import { check, index, jsonb, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const accounts = pgTable('accounts', {
  name: text('name').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A connector attached to an account. Live connectors carry credentials: `secretBox` is the AES-256-GCM
 * sealed JSON of every credential field, `masked` the display form of each field. Paper and sim
 * connectors carry none.
 */
export const accountConnectors = pgTable(
  'account_connectors',
  {
    accountName: text('account_name').notNull().references(() => accounts.name, { onDelete: 'cascade' }),
    connectorName: text('connector_name').notNull(),
    secretBox: text('secret_box'),
    masked: jsonb('masked').$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'account_connectors_pk', columns: [t.accountName, t.connectorName] })],
);

/** Balances of paper and sim connectors, kept as exact decimals. `locked` is reserved by open orders. */
export const paperBalances = pgTable(
  'paper_balances',
  {
    accountName: text('account_name').notNull().references(() => accounts.name, { onDelete: 'cascade' }),
    connectorName: text('connector_name').notNull(),
    asset: text('asset').notNull(),
    total: numeric('total', { precision: 38, scale: 18 }).notNull(),
    locked: numeric('locked', { precision: 38, scale: 18 }).notNull().default('0'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'paper_balances_pk', columns: [t.accountName, t.connectorName, t.asset] }),
    index('paper_balances_account_idx').on(t.accountName),
    // The order path writes balance changes as deltas: a bug that would overdraw or over-lock a balance
    // fails the transaction here instead of storing an impossible ledger.
    check('paper_balances_total_nonnegative', sql`${t.total} >= 0`),
    check('paper_balances_locked_within_total', sql`${t.locked} >= 0 and ${t.locked} <= ${t.total}`),
  ],
);

export type AccountRow = typeof accounts.$inferSelect;
export type AccountConnectorRow = typeof accountConnectors.$inferSelect;
export type PaperBalanceRow = typeof paperBalances.$inferSelect;
