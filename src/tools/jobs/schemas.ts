import { z } from 'zod';
import { JOB_STATUSES } from '../../core/db/schema/index.js';
import type { CommandContext } from '../../core/command/types.js';
import { JOB_ID_RE } from '../../core/jobs/index.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';

export const JobIdIn = z.string().regex(JOB_ID_RE, 'a job id like job_…').describe('The job_id returned when the job was started.');

export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;

/** The filter and paging fields every list of jobs takes (jobs, backtests, optimizations). */
export const JobListFields = {
  status: JobStatus.optional(),
  limit: PageLimit,
  cursor: z.string().max(200).optional().describe("The previous page's pagination.next_cursor."),
};

/** Those fields as a jobs page request, the limit bounded for the caller's face. */
export function jobPage(input: { status?: JobStatus | undefined; limit?: number | undefined; cursor?: string | undefined }, ctx: CommandContext): { limit: number; status?: JobStatus; cursor?: string } {
  return { limit: pageLimit(input.limit, ctx), ...(input.cursor ? { cursor: input.cursor } : {}), ...(input.status ? { status: input.status } : {}) };
}

export const JobOut = z.object({
  job_id: z.string(),
  kind: z.string(),
  status: JobStatus.describe('queued → running → succeeded | failed | canceled; interrupted: the server stopped while it ran, start it again.'),
  progress: z.number().describe('0 to 1.'),
  progress_message: z.string().nullable(),
  input: z.unknown().describe('What the job was started with.'),
  result: z.unknown().describe('Set when it succeeded; a partial result after a cancel or a stop.'),
  error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }).nullable(),
  principal: z.string().describe('Who started it.'),
  account_name: z.string().nullable(),
  cancel_requested: z.boolean(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  updated_at: z.string(),
  heartbeat_at: z.string().nullable().describe('Last sign of life from the process running it.'),
});
