import { AppError } from '../errors.js';

/**
 * Recognising "the database cannot be reached right now", as opposed to a query that is wrong. Such a
 * failure says nothing about the call that hit it: the same call may succeed once the server is back,
 * so callers get 503 UPSTREAM_UNAVAILABLE, retryable, instead of a 500 that reads like a bug.
 */

export const DATABASE_UNAVAILABLE_HINT = 'The database is unreachable; retry in a few seconds. GET /health reports when it is back.';

/** Socket-level failures: the server refused, reset or never answered the connection. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTCONN']);

/**
 * SQLSTATEs that mean the server is going away or turning connections down: admin_shutdown,
 * crash_shutdown, cannot_connect_now (starting up or shutting down), too_many_connections. Class 08
 * (connection exceptions) is matched by prefix.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * node-postgres reports a dropped or never-made connection as a plain Error with one of these messages
 * (pg Client and pg-pool), with no code to match on.
 */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/i, // "… unexpectedly", "… due to connection timeout"
  /timeout exceeded when trying to connect/i, // pg-pool: no connection within connectionTimeoutMillis
  /^timeout expired$/i, // pg Client.connect: connectionTimeoutMillis passed
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
];

/** How deep to follow `cause`: drizzle wraps pg's error once, our own code may wrap it again. */
const MAX_CAUSE_DEPTH = 5;

/** True when `err`, or an error it wraps through `cause`, says the database cannot be reached. */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && e instanceof Error; depth++) {
    if (isUnavailableItself(e)) return true;
    if (e instanceof AggregateError && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function isUnavailableItself(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  return UNAVAILABLE_MESSAGES.some((re) => re.test(e.message));
}

/** The AppError every face shows for an unreachable database; the original is kept as the cause for the log. */
export function databaseUnavailable(cause: unknown, what = 'The database is unreachable'): AppError {
  return new AppError('UPSTREAM_UNAVAILABLE', `${what}, so the request could not be completed.`, { hint: DATABASE_UNAVAILABLE_HINT, cause });
}

/**
 * True when Postgres aborted the statement to break a deadlock (40P01) or a serialization conflict
 * (40001): nothing of it was written, and running it again is safe.
 */
export function isRetryableConflict(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === '40P01' || code === '40001') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
