import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { backtestResults } from '../db/schema/index.js';
import type { BacktestSummary } from '../backtest/stored-result.js';

export interface BacktestRecord {
  jobId: string;
  spec: unknown;
  result: Record<string, unknown>;
  metrics: unknown;
  digest: string;
  bytes: number;
  createdAt: Date;
}

/** The backtest_results table: one row per finished backtest job, deleted with its job. */
export class BacktestStore {
  constructor(private readonly db: Db) {}

  /** Written once by the job that ran it; a retry of the same job id overwrites its own row. */
  async save(jobId: string, spec: unknown, json: string, summary: BacktestSummary): Promise<void> {
    // The conflict branch takes the row offered (excluded), so the document is sent once, not twice.
    await this.db
      .insert(backtestResults)
      .values({ jobId, spec: spec as object, result: json, metrics: summary.metrics as object, digest: summary.digest, bytes: summary.bytes })
      .onConflictDoUpdate({
        target: backtestResults.jobId,
        set: { result: sql`excluded.result`, metrics: sql`excluded.metrics`, digest: sql`excluded.digest`, bytes: sql`excluded.bytes`, spec: sql`excluded.spec` },
      });
  }

  async get(jobId: string): Promise<BacktestRecord | undefined> {
    const [row] = await this.db.select().from(backtestResults).where(eq(backtestResults.jobId, jobId));
    return row ? { ...row, result: JSON.parse(row.result) as Record<string, unknown> } : undefined;
  }
}
