import { cancelJob } from './cancel-job.js';
import { getJob } from './get-job.js';
import { listJobs } from './list-jobs.js';
import { startCandleBackfill } from './start-candle-backfill.js';

export const jobCommands = [listJobs, getJob, cancelJob, startCandleBackfill];
