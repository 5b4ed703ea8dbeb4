export * from './types.js';
export * from './jobs.js';
export * from './job-view.js';
export { JOB_ID_RE } from './job-store.js';
export { JobAborted, INTERRUPTED } from './job-errors.js';
