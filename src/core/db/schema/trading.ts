import { sql } from 'drizzle-orm';
import { bigserial, boolean, index, integer, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { accounts } from './accounts.js';

const amount = (name: string) => numeric(name, { precision: 38, scale: 18 });

/**
 * Every order, written before it is sent (status `pending_submit`) and updated after, so a crash in
 * between is found and reconciled at the next start. `client_order_id` is unique per account and makes
 * a retried placement return the first order instead of a second one.
 */
export const orders = pgTable(
  'orders',
  {
    id: text('id').primaryKey(),
    clientOrderId: text('client_order_id').notNull(),
    accountName: text('account_name').notNull().references(() => accounts.name, { onDelete: 'cascade' }),
    connectorName: text('connector_name').notNull(),
    tradingPair: text('trading_pair').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    orderType: text('order_type', { enum: ['market', 'limit', 'limit_maker'] }).notNull(),
    amount: amount('amount').notNull(),
    price: amount('price'),
    positionAction: text('position_action', { enum: ['open', 'close'] }),
    leverage: integer('leverage'),
    status: text('status', { enum: ['pending_submit', 'open', 'partially_filled', 'filled', 'canceled', 'rejected', 'failed'] }).notNull(),
    filledAmount: amount('filled_amount').notNull().default('0'),
    averageFillPrice: amount('average_fill_price'),
    feePaid: amount('fee_paid').notNull().default('0'),
    feeAsset: text('fee_asset'),
    /** What the open remainder holds back: the asset and how much is still reserved. */
    reservedAsset: text('reserved_asset'),
    reservedAmount: amount('reserved_amount').notNull().default('0'),
    exchangeOrderId: text('exchange_order_id'),
    errorMessage: text('error_message'),
    /** A fingerprint of the order's parameters, to tell a true retry from a reused client_order_id. */
    requestHash: text('request_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('orders_account_client_order_id_uq').on(t.accountName, t.clientOrderId),
    index('orders_status_idx').on(t.status),
    index('orders_account_created_idx').on(t.accountName, t.createdAt),
    index('orders_client_order_id_idx').on(t.clientOrderId),
    // Resting orders of one pair: the position cap reads them on every order, whatever the account's history.
    index('orders_resting_idx').on(t.accountName, t.connectorName, t.tradingPair, t.side).where(sql`${t.status} in ('open', 'partially_filled', 'pending_submit')`),
  ],
);

/** Executions. Realized PnL is set on fills that reduce a perpetual position. */
export const fills = pgTable(
  'fills',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    fillId: text('fill_id').notNull(),
    orderId: text('order_id').notNull().references(() => orders.id, { onDelete: 'cascade' }),
    accountName: text('account_name').notNull(),
    connectorName: text('connector_name').notNull(),
    tradingPair: text('trading_pair').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    price: amount('price').notNull(),
    amount: amount('amount').notNull(),
    fee: amount('fee').notNull(),
    feeAsset: text('fee_asset').notNull(),
    isMaker: boolean('is_maker').notNull(),
    realizedPnl: amount('realized_pnl'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('fills_fill_id_uq').on(t.fillId), index('fills_account_at_idx').on(t.accountName, t.at), index('fills_order_id_idx').on(t.orderId)],
);

/** One-way perpetual positions: `amount` is signed (long > 0, short < 0). */
export const positions = pgTable(
  'positions',
  {
    accountName: text('account_name').notNull().references(() => accounts.name, { onDelete: 'cascade' }),
    connectorName: text('connector_name').notNull(),
    tradingPair: text('trading_pair').notNull(),
    amount: amount('amount').notNull(),
    entryPrice: amount('entry_price').notNull(),
    leverage: integer('leverage').notNull(),
    /** Initial margin held for the position, in the quote asset. */
    margin: amount('margin').notNull(),
    realizedPnl: amount('realized_pnl').notNull().default('0'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'positions_pk', columns: [t.accountName, t.connectorName, t.tradingPair] })],
);

/** Leverage chosen for new positions on a perpetual pair (trading_set_leverage); an order's own leverage wins. */
export const leverageSettings = pgTable(
  'leverage_settings',
  {
    accountName: text('account_name').notNull().references(() => accounts.name, { onDelete: 'cascade' }),
    connectorName: text('connector_name').notNull(),
    tradingPair: text('trading_pair').notNull(),
    leverage: integer('leverage').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'leverage_settings_pk', columns: [t.accountName, t.connectorName, t.tradingPair] })],
);

export type OrderRow = typeof orders.$inferSelect;
export type FillRow = typeof fills.$inferSelect;
export type PositionRow = typeof positions.$inferSelect;
