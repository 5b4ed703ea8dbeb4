import { and, count, desc, eq, inArray, isNull, lt, ne, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { jobs, type JobError, type JobRow, type JobStatus } from '../db/schema/index.js';
import { CANCELED, INTERRUPTED } from './job-errors.js';
import { encodeKeysetCursor, keysetCursor } from '../keyset-cursor.js';

export const JOB_ID_RE = /^job_[A-Za-z0-9_-]{16}$/;
const ACTIVE: JobStatus[] = ['queued', 'running'];

/** Who may see a job: its creator, within the accounts it may use; an admin sees every job. */
export interface Viewer {
  /** null: every job (an admin). */
  principal: string | null;
  /** null: any account. A job that names no account is visible to its creator whatever this says. */
  accounts: string[] | null;
}

export interface NewJob {
  id: string;
  kind: string;
  input: unknown;
  principal: string;
  accountName: string | null;
  owner: string;
  now: Date;
}

export interface ListFilter {
  kind?: string;
  status?: JobStatus;
  limit: number;
  cursor?: string;
}

export interface Final {
  status: Exclude<JobStatus, 'queued' | 'running'>;
  result?: unknown;
  error?: JobError | null;
  progress?: number;
  progressMessage?: string | null;
}

/**
 * The jobs table's statements. Every change of state is one conditional UPDATE naming the state it
 * leaves (and, for a process's own jobs, the owner), so that two processes racing for one job (a claim,
 * a finish, a sweep, a cancel) can never both win: the loser's statement matches no row.
 */
export class JobStore {
  constructor(private readonly db: Db) {}

  async insert(j: NewJob): Promise<JobRow> {
    const [row] = await this.db
      .insert(jobs)
      .values({ id: j.id, kind: j.kind, status: 'queued', input: j.input as object, principal: j.principal, accountName: j.accountName, owner: j.owner, heartbeatAt: j.now, createdAt: j.now, updatedAt: j.now })
      .returning();
    return row!;
  }

  /** Deletes an ended job (and, by cascade, what it stored); a queued or running one is left alone. */
  async deleteEnded(id: string): Promise<boolean> {
    const rows = await this.db.delete(jobs).where(and(eq(jobs.id, id), notInArray(jobs.status, ACTIVE))).returning({ id: jobs.id });
    return rows.length > 0;
  }

  async get(id: string): Promise<JobRow | undefined> {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, id));
    return row;
  }

  /** Unfinished jobs of one principal, across every process. */
  async activeCount(principal: string): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(jobs).where(and(eq(jobs.principal, principal), inArray(jobs.status, ACTIVE)));
    return row?.n ?? 0;
  }

  /** queued → running, only by the process that owns the job. */
  async claim(id: string, owner: string, now: Date): Promise<JobRow | undefined> {
    const [row] = await this.db
      .update(jobs)
      .set({ status: 'running', startedAt: now, heartbeatAt: now, updatedAt: now })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'queued'), eq(jobs.owner, owner)))
      .returning();
    return row;
  }

  /** Writes progress; null when the job is no longer this owner's running job (swept meanwhile). */
  async progress(id: string, owner: string, fraction: number, message: string | null, now: Date): Promise<{ cancelRequested: boolean } | null> {
    const [row] = await this.db
      .update(jobs)
      .set({ progress: fraction, progressMessage: message, heartbeatAt: now, updatedAt: now })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'running'), eq(jobs.owner, owner)))
      .returning({ cancelRequested: jobs.cancelRequested });
    return row ?? null;
  }

  /** Ends one of this owner's jobs that is still in one of `from`; false when it no longer was. */
  async finish(id: string, owner: string, from: JobStatus[], f: Final, now: Date): Promise<boolean> {
    const rows = await this.db
      .update(jobs)
      .set({
        status: f.status,
        result: (f.result ?? null) as object | null,
        error: f.error ?? null,
        ...(f.progress !== undefined ? { progress: f.progress } : {}),
        ...(f.progressMessage !== undefined ? { progressMessage: f.progressMessage } : {}),
        finishedAt: now,
        updatedAt: now,
      })
      .where(and(eq(jobs.id, id), inArray(jobs.status, from), eq(jobs.owner, owner)))
      .returning({ id: jobs.id });
    return rows.length === 1;
  }

  /** Ends queued jobs of this owner that never started (a stopping process's queue), in one statement. */
  async interruptQueued(ids: string[], owner: string, error: JobError, now: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await this.db
      .update(jobs)
      .set({ status: 'interrupted', error, finishedAt: now, updatedAt: now })
      .where(and(inArray(jobs.id, ids), eq(jobs.status, 'queued'), eq(jobs.owner, owner)))
      .returning({ id: jobs.id });
    return rows.length;
  }

  /** Refreshes the heartbeat of the jobs this owner holds; returns those still queued or running. */
  async heartbeat(ids: string[], owner: string, now: Date): Promise<Array<{ id: string; status: JobStatus; cancelRequested: boolean }>> {
    if (ids.length === 0) return [];
    return this.db
      .update(jobs)
      .set({ heartbeatAt: now })
      .where(and(inArray(jobs.id, ids), eq(jobs.owner, owner), inArray(jobs.status, ACTIVE)))
      .returning({ id: jobs.id, status: jobs.status, cancelRequested: jobs.cancelRequested });
  }

  /**
   * Ends every queued or running job whose owner has gone quiet (heartbeat before `staleBefore`), or,
   * with `allBut`, every one not owned by that process. A job whose cancel was asked for ends canceled,
   * any other interrupted. Returns the ids it ended.
   */
  async sweep(now: Date, by: { staleBefore: Date } | { allBut: string }): Promise<Array<{ id: string; status: JobStatus }>> {
    const who: SQL = 'allBut' in by ? or(isNull(jobs.owner), ne(jobs.owner, by.allBut))! : or(isNull(jobs.heartbeatAt), lt(jobs.heartbeatAt, by.staleBefore))!;
    return this.db
      .update(jobs)
      .set({
        status: sql`case when ${jobs.cancelRequested} then 'canceled' else 'interrupted' end`,
        error: sql`case when ${jobs.cancelRequested} then ${JSON.stringify(CANCELED)}::jsonb else ${JSON.stringify(INTERRUPTED)}::jsonb end`,
        finishedAt: now,
        updatedAt: now,
      })
      .where(and(inArray(jobs.status, ACTIVE), who))
      .returning({ id: jobs.id, status: jobs.status });
  }

  /**
   * A queued job ends canceled at once; a running one is flagged for its owner to stop. Returns the
   * row after the change, or the unchanged row when it had already finished (or undefined when absent).
   */
  async requestCancel(id: string, now: Date): Promise<{ row: JobRow | undefined; changed: boolean }> {
    const [queued] = await this.db
      .update(jobs)
      .set({ status: 'canceled', cancelRequested: true, error: CANCELED, finishedAt: now, updatedAt: now })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'queued')))
      .returning();
    if (queued) return { row: queued, changed: true };
    const [running] = await this.db.update(jobs).set({ cancelRequested: true, updatedAt: now }).where(and(eq(jobs.id, id), eq(jobs.status, 'running'))).returning();
    if (running) return { row: running, changed: true };
    return { row: await this.get(id), changed: false };
  }

  async list(viewer: Viewer, f: ListFilter): Promise<{ rows: JobRow[]; hasMore: boolean; nextCursor: string | null }> {
    const conds: SQL[] = [];
    const visible = visibleTo(viewer);
    if (visible) conds.push(visible);
    if (f.kind) conds.push(eq(jobs.kind, f.kind));
    if (f.status) conds.push(eq(jobs.status, f.status));
    if (f.cursor) {
      const { at, key: id } = keysetCursor(f.cursor, JOB_ID_RE);
      conds.push(or(lt(jobs.createdAt, at), and(eq(jobs.createdAt, at), lt(jobs.id, id)))!);
    }
    const rows = await this.db.select().from(jobs).where(and(...conds)).orderBy(desc(jobs.createdAt), desc(jobs.id)).limit(f.limit + 1);
    const page = rows.slice(0, f.limit);
    const hasMore = rows.length > f.limit;
    const last = page[page.length - 1];
    return { rows: page, hasMore, nextCursor: hasMore && last ? encodeKeysetCursor(last.createdAt, last.id) : null };
  }
}

export function isVisible(row: JobRow, viewer: Viewer): boolean {
  if (viewer.principal !== null && row.principal !== viewer.principal) return false;
  return viewer.accounts === null || row.accountName === null || viewer.accounts.includes(row.accountName);
}

function visibleTo(viewer: Viewer): SQL | undefined {
  const conds: SQL[] = [];
  if (viewer.principal !== null) conds.push(eq(jobs.principal, viewer.principal));
  if (viewer.accounts !== null) conds.push(or(isNull(jobs.accountName), viewer.accounts.length ? inArray(jobs.accountName, viewer.accounts) : sql`false`)!);
  return conds.length ? and(...conds) : undefined;
}


