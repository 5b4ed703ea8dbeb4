import { boolean, doublePrecision, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'interrupted'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** What a job that did not succeed ended with: one of our error codes, or INTERRUPTED / CANCELED. */
export interface JobError {
  code: string;
  message: string;
  hint?: string;
}

/**
 * Long-running work (backfills, backtests, optimizations, image pulls), persisted so that its state
 * outlives the process that ran it. `owner` is the process instance that runs (or will run) a queued or
 * running job, and `heartbeat_at` the last time that process said it was alive: a job whose owner has
 * gone quiet is marked `interrupted` by any process on this database, so no job stays `running` for ever.
 * `progress` is a fraction from 0 to 1 for display, not money, so double precision is enough.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    status: text('status', { enum: JOB_STATUSES }).notNull(),
    input: jsonb('input').notNull(),
    progress: doublePrecision('progress').notNull().default(0),
    progressMessage: text('progress_message'),
    result: jsonb('result'),
    error: jsonb('error').$type<JobError>(),
    principal: text('principal').notNull(),
    accountName: text('account_name'),
    owner: text('owner'),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('jobs_created_idx').on(t.createdAt, t.id),
    index('jobs_status_idx').on(t.status, t.createdAt),
    index('jobs_principal_created_idx').on(t.principal, t.createdAt),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
