import { AppError, toAppError } from '../errors.js';
import type { JobError } from '../db/schema/index.js';
import { storableText } from '../audit/storable.js';

/** Why a job's signal fired. */
export type AbortReason = 'cancel' | 'shutdown' | 'lost';

/** The signal's reason: a runner that rethrows it ends the way the abort says, not as a failure. */
export class JobAborted extends Error {
  constructor(readonly why: AbortReason) {
    super(why === 'cancel' ? 'the job was canceled' : why === 'shutdown' ? 'the server is stopping' : 'another process declared this job interrupted');
    this.name = 'JobAborted';
  }
}

export const INTERRUPTED: JobError = {
  code: 'INTERRUPTED',
  message: 'The server stopped while this job ran; start it again.',
  hint: 'Jobs do not resume after a restart: create the job again with the same input.',
};

export const INTERRUPTED_QUEUED: JobError = {
  code: 'INTERRUPTED',
  message: 'The server stopped before this job started; start it again.',
  hint: 'Jobs do not resume after a restart: create the job again with the same input.',
};

export const CANCELED: JobError = { code: 'CANCELED', message: 'The job was canceled on request before it finished.' };

/**
 * What a failed job shows: the AppError's code, message and hint (ours, never an exchange's words: those
 * stay in details, which are not kept), or a generic INTERNAL error for anything else. Only the log gets
 * the underlying error.
 */
export function jobErrorOf(err: unknown): JobError {
  const e = toAppError(err);
  return { code: e.code, message: storableText(e.message, 500), ...(e.hint ? { hint: storableText(e.hint, 500) } : {}) };
}

export function jobNotFound(id: string): AppError {
  return new AppError('NOT_FOUND', `There is no job ${id}.`, { hint: 'GET /jobs lists the jobs you can see.' });
}
