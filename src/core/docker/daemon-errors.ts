import { AppError } from '../errors.js';

/** The HTTP status of a dockerode error (404 no such container, 304 already stopped or started, 409 conflict). */
export const statusOf = (err: unknown) => (err as { statusCode?: number } | null)?.statusCode;

/** The daemon's own message in a dockerode error (its JSON `message`), without dockerode's prefix. */
export function daemonMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  // dockerode prefixes the daemon's text with the status: "(HTTP code 500) server error - <message>".
  return (err instanceof Error ? err.message : String(err)).replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/** A daemon that cannot be reached (no socket, refused, timed out) is an UPSTREAM_UNAVAILABLE; any other error stays as it is. */
export function unreachable(err: unknown): unknown {
  const code = (err as { code?: string } | null)?.code;
  if (code && ['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code)) {
    return new AppError('UPSTREAM_UNAVAILABLE', 'The Docker daemon does not answer', { hint: 'Start dockerd, or set DOCKER_HOST to a daemon the server may use.', cause: err });
  }
  if ((err as { name?: string } | null)?.name === 'AbortError' || (err as { name?: string } | null)?.name === 'TimeoutError') {
    return new AppError('UPSTREAM_UNAVAILABLE', 'The Docker daemon did not answer in time', { hint: 'Check that dockerd runs and is not overloaded, or set DOCKER_HOST to a daemon the server may use.', cause: err });
  }
  return err;
}
