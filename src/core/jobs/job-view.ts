import type { JobError, JobRow, JobStatus } from '../db/schema/index.js';

/** A job as both faces show it: snake_case, ISO times. */
export interface JobView {
  job_id: string;
  kind: string;
  status: JobStatus;
  progress: number;
  progress_message: string | null;
  input: unknown;
  result: unknown;
  error: JobError | null;
  principal: string;
  account_name: string | null;
  cancel_requested: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
  heartbeat_at: string | null;
}

const isoOrNull = (d: Date | null) => d?.toISOString() ?? null;

export function jobView(r: JobRow): JobView {
  return {
    job_id: r.id,
    kind: r.kind,
    status: r.status,
    progress: r.progress,
    progress_message: r.progressMessage,
    input: r.input,
    result: r.result ?? null,
    error: r.error ?? null,
    principal: r.principal,
    account_name: r.accountName,
    cancel_requested: r.cancelRequested,
    created_at: r.createdAt.toISOString(),
    started_at: isoOrNull(r.startedAt),
    finished_at: isoOrNull(r.finishedAt),
    updated_at: r.updatedAt.toISOString(),
    heartbeat_at: isoOrNull(r.heartbeatAt),
  };
}
