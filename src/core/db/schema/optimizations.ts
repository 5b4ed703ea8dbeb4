import { boolean, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { jobs } from './jobs.js';

/**
 * An optimization's leaderboard, kept apart from its job row (read on every poll): the top trials with
 * their params and full metrics, and the walk-forward windows. Written when the job ends, canceled
 * ones included (partial). Deleting the job deletes it.
 */
export const optimizationResults = pgTable('optimization_results', {
  jobId: text('job_id')
    .primaryKey()
    .references(() => jobs.id, { onDelete: 'cascade' }),
  /** The optimization as run (base backtest, space, search, objective, constraints). */
  spec: jsonb('spec').notNull(),
  /** Ranked trials, best first: { rank, trial, params, config, metrics }. */
  leaderboard: jsonb('leaderboard').notNull(),
  /** Walk-forward windows with each one's winner and out-of-sample metrics; null for grid and random. */
  windows: jsonb('windows'),
  trialsDone: integer('trials_done').notNull(),
  trialsTotal: integer('trials_total').notNull(),
  /** Trials that ran but broke a constraint or had no objective value. */
  trialsRejected: integer('trials_rejected').notNull(),
  /** Canceled before every trial ran: the leaderboard ranks the trials that did. */
  partial: boolean('partial').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type OptimizationResultRow = typeof optimizationResults.$inferSelect;

/**
 * The metrics of each finished trial of a running optimization whose trials go through the Postgres
 * job queue: whichever worker runs a trial writes its row here, and the coordinating job reads them as
 * they arrive. The key makes a trial count once however many times a retried batch runs it. The rows
 * are deleted when the job has stored its leaderboard, and with the job.
 */
export const optimizationTrials = pgTable(
  'optimization_trials',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    trial: integer('trial').notNull(),
    metrics: jsonb('metrics').notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.trial] })],
);
