import { doublePrecision, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** Closed candles fetched from live exchanges, kept so that a past range is read once. */
export const candles = pgTable(
  'candles',
  {
    connectorName: text('connector_name').notNull(),
    tradingPair: text('trading_pair').notNull(),
    interval: text('interval').notNull(),
    openTime: timestamp('open_time', { withTimezone: true }).notNull(),
    open: doublePrecision('open').notNull(),
    high: doublePrecision('high').notNull(),
    low: doublePrecision('low').notNull(),
    close: doublePrecision('close').notNull(),
    volume: doublePrecision('volume').notNull(),
  },
  (t) => [primaryKey({ name: 'candles_pk', columns: [t.connectorName, t.tradingPair, t.interval, t.openTime] })],
);
