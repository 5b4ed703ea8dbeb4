import { bigserial, index, jsonb, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** The valued portfolio of one account and connector at one moment, taken on a schedule. */
export const portfolioSnapshots = pgTable(
  'portfolio_snapshots',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    accountName: text('account_name').notNull(),
    connectorName: text('connector_name').notNull(),
    quote: text('quote').notNull(),
    totalValue: numeric('total_value', { precision: 38, scale: 18 }).notNull(),
    detail: jsonb('detail').$type<Array<{ asset: string; amount: string; price: string | null; value: string | null }>>().notNull(),
  },
  (t) => [index('portfolio_snapshots_at_idx').on(t.at), index('portfolio_snapshots_account_at_idx').on(t.accountName, t.at)],
);

export type PortfolioSnapshotRow = typeof portfolioSnapshots.$inferSelect;
