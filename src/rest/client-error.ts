import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError, errorBody } from '../core/errors.js';

/**
 * Errors Node's HTTP parser raises before a request reaches express (headers too large, malformed
 * request, a request or its headers not received in time) get the API's JSON error shape instead of
 * Node's bare text, when nothing of a response has been written yet.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, e] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, new AppError('PAYLOAD_TOO_LARGE', 'The request headers are too large.', { hint: 'Send fewer or shorter headers (16 KB in all at most).' })]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, new AppError('TIMEOUT', 'The request was not received in time.', { hint: 'Send the headers and the whole body (as long as Content-Length says) promptly.' })]
        : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
          ? [413, new AppError('PAYLOAD_TOO_LARGE', 'The chunk extensions are too large.', { hint: 'Send a plain chunked or Content-Length body.' })]
          : [400, new AppError('VALIDATION_FAILED', 'The HTTP request is malformed.', { hint: 'Send a well-formed HTTP/1.1 request.' })];
  endWithJson(socket, status, errorBody(e));
}

/**
 * Writes a whole JSON response on a socket that has no ServerResponse (a parser error, a refused
 * WebSocket upgrade) and closes it once written.
 */
export function endWithJson(socket: Duplex, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${extra}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    () => socket.destroy(),
  );
}
