import { AppError, type ErrorCode, isErrorCode } from '../../core/errors.js';
import type { JobView } from '../../core/jobs/job-view.js';

/**
 * For a model that waited for a job it started (wait_seconds): a job that ended without a result
 * (failed, canceled, interrupted) as an error result, so the call cannot read as a success; the job
 * stays, and its id is in the details. REST answers 202 with the job as it is: a script reads its status.
 */
export function endedWithoutResult(job: JobView, what: string): AppError | null {
  if (job.status !== 'failed' && job.status !== 'canceled' && job.status !== 'interrupted') return null;
  const given = job.error?.code;
  const code: ErrorCode = isErrorCode(given) ? given : job.status === 'failed' ? 'INTERNAL' : 'CONFLICT';
  const why = job.error?.message ?? `it was ${job.status}`;
  return new AppError(code, `The ${what} ${job.job_id} ${job.status === 'failed' ? 'failed' : `was ${job.status}`}: ${why}`, {
    hint: job.error?.hint ?? `jobs_get_job ${job.job_id} shows the job; start it again once the cause is fixed.`,
    details: { job_id: job.job_id, status: job.status, ...(given ? { job_error_code: given } : {}) },
  });
}
