import { databaseUnavailable, isDatabaseUnavailable } from './db/errors.js';

/**
 * The one closed set of error codes. Every failure a caller can see is an AppError with one of these
 * codes; the REST face maps it to a status with `httpStatusOf`, the MCP face to an `isError` result.
 * Adding a code fails the build until both maps below cover it.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'POLICY_DENIED',
  'RISK_LIMIT_EXCEEDED',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UPSTREAM_REJECTED',
  'CONFIRMATION_REQUIRED',
  'CONFIRMATION_DECLINED',
  'CONFIRMATION_EXPIRED',
  'CONFIRMATION_REUSED',
  'CONFIRMATION_MISMATCH',
  'DUPLICATE_ORDER',
  'KILL_SWITCH_ACTIVE',
  'RATE_LIMITED',
  'INTERNAL',
  'NOT_SUPPORTED',
  'UPSTREAM_UNAVAILABLE',
  'TIMEOUT',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const HTTP_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  POLICY_DENIED: 403,
  RISK_LIMIT_EXCEEDED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UPSTREAM_REJECTED: 422,
  CONFIRMATION_REQUIRED: 428,
  CONFIRMATION_DECLINED: 403,
  CONFIRMATION_EXPIRED: 403,
  CONFIRMATION_REUSED: 409,
  CONFIRMATION_MISMATCH: 409,
  DUPLICATE_ORDER: 409,
  KILL_SWITCH_ACTIVE: 423,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  NOT_SUPPORTED: 501,
  UPSTREAM_UNAVAILABLE: 503,
  TIMEOUT: 504,
};

/** Codes where the same call may succeed later without changing it. */
const RETRYABLE: Record<ErrorCode, boolean> = {
  VALIDATION_FAILED: false,
  UNAUTHENTICATED: false,
  POLICY_DENIED: false,
  RISK_LIMIT_EXCEEDED: false,
  NOT_FOUND: false,
  CONFLICT: false,
  PRECONDITION_FAILED: false,
  PAYLOAD_TOO_LARGE: false,
  UPSTREAM_REJECTED: false,
  CONFIRMATION_REQUIRED: false,
  CONFIRMATION_DECLINED: false,
  CONFIRMATION_EXPIRED: false,
  CONFIRMATION_REUSED: false,
  CONFIRMATION_MISMATCH: false,
  DUPLICATE_ORDER: false,
  KILL_SWITCH_ACTIVE: false,
  RATE_LIMITED: true,
  INTERNAL: false,
  NOT_SUPPORTED: false,
  UPSTREAM_UNAVAILABLE: true,
  TIMEOUT: true,
};

/** Whether a code read from outside (a worker's message, a bot's reply, a stored job) is one of ours. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

export function isRetryable(code: ErrorCode): boolean {
  return RETRYABLE[code];
}

export interface AppErrorOptions {
  /** The next step for the reader (a person or a model). */
  hint?: string;
  /** Structured facts about the failure: field issues, limits, valid ids. Must hold no secret. */
  details?: Record<string, unknown>;
  /** The underlying error: logged, never shown to callers. */
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get retryable(): boolean {
    return isRetryable(this.code);
  }
}

/** The wire form of an error, identical on both faces: `{error:{code,message,hint,retryable,details}}`. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    hint?: string;
    retryable: boolean;
    details?: Record<string, unknown>;
    request_id?: string;
  };
}

export function errorBody(err: AppError, requestId?: string): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.hint ? { hint: err.hint } : {}),
      retryable: err.retryable,
      ...(err.details ? { details: err.details } : {}),
      ...(requestId ? { request_id: requestId } : {}),
    },
  };
}

/**
 * Normalises anything thrown into an AppError. Services map their third-party errors (ccxt, pg,
 * dockerode, MQTT) themselves; a lost database connection can surface from any query, so it is
 * recognised here once for every command on both faces (503, retryable). Whatever else reaches this
 * point unmapped is an INTERNAL error whose cause is kept for the log and never shown.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isDatabaseUnavailable(err)) return databaseUnavailable(err);
  return new AppError('INTERNAL', 'The server hit an unexpected error.', {
    hint: 'This is a bug or an unhandled condition; the server log has the details. Retrying may not help.',
    cause: err,
  });
}

/** A 400 naming one input field, as a schema failure would: the same shape, so a client handles both alike. */
export function invalidField(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `Invalid input: ${path}: ${message}`, { hint: 'Fix the fields listed in details.issues and call again.', details: { issues: [{ path, message }] } });
}
