import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { optimizationResults } from '../db/schema/index.js';

export interface OptimizationRecord {
  jobId: string;
  spec: unknown;
  leaderboard: unknown[];
  windows: unknown[] | null;
  trialsDone: number;
  trialsTotal: number;
  trialsRejected: number;
  partial: boolean;
  createdAt: Date;
}

export type NewOptimizationRecord = Omit<OptimizationRecord, 'createdAt'>;

/** The optimization_results table: one row per ended optimization job, deleted with its job. */
export class OptimizationStore {
  constructor(private readonly db: Db) {}

  async save(r: NewOptimizationRecord): Promise<void> {
    const values = { ...r, spec: r.spec as object, leaderboard: r.leaderboard as object, windows: r.windows as object | null };
    const { jobId: _, ...set } = values;
    await this.db.insert(optimizationResults).values(values).onConflictDoUpdate({ target: optimizationResults.jobId, set });
  }

  async get(jobId: string): Promise<OptimizationRecord | undefined> {
    const [row] = await this.db.select().from(optimizationResults).where(eq(optimizationResults.jobId, jobId));
    return row ? { ...row, leaderboard: row.leaderboard as unknown[], windows: row.windows as unknown[] | null } : undefined;
  }
}
