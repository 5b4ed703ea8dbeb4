import { integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { jobs } from './jobs.js';

/**
 * A finished backtest's full result, kept apart from its job row: the job row is read on every poll
 * and holds only a summary, while a result with its executors, fills and series can run to megabytes.
 * Deleting the job deletes the result.
 */
export const backtestResults = pgTable('backtest_results', {
  jobId: text('job_id')
    .primaryKey()
    .references(() => jobs.id, { onDelete: 'cascade' }),
  /** The run's inputs as resolved (controller config included), for reproducing it. */
  spec: jsonb('spec').notNull(),
  /**
   * The result document (executors, orders, fills, series, gaps) as the results route serves it: JSON
   * text, written and read whole (nothing queries inside it), so Postgres does not parse a year's 10 MB
   * into jsonb on write (most of a second) and print it back on read.
   */
  result: text('result').notNull(),
  metrics: jsonb('metrics').notNull(),
  /** SHA-256 of the canonical result JSON: two runs of the same spec give the same digest. */
  digest: text('digest').notNull(),
  bytes: integer('bytes').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type BacktestResultRow = typeof backtestResults.$inferSelect;
