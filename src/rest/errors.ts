import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, errorBody, httpStatusOf, toAppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export function sendError(res: Response, err: AppError): void {
  const status = httpStatusOf(err.code);
  if (err.code === 'UNAUTHENTICATED') res.setHeader('WWW-Authenticate', 'Basic realm="tradedesk", charset="UTF-8"');
  if (err.retryable) res.setHeader('Retry-After', err.code === 'RATE_LIMITED' ? '5' : '10');
  res.status(status).json(errorBody(err, res.locals.requestId as string | undefined));
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, new AppError('NOT_FOUND', `No route ${req.method} ${req.path}.`, { hint: 'GET /openapi.json lists every route; the docs are at /docs.' }));
};

/** A body-parser failure as our error (413 too large, 400 not JSON or unreadable), or null for anything else. */
export function bodyErrorOf(err: unknown): AppError | null {
  if (err instanceof AppError) return null;
  const e = err as { type?: string; status?: number; limit?: number };
  if (e.type === 'entity.too.large') {
    return new AppError('PAYLOAD_TOO_LARGE', `The request body exceeds ${e.limit ?? 'the'} bytes.`, { hint: 'Send a smaller body.' });
  }
  if (e.type === 'entity.parse.failed') {
    return new AppError('VALIDATION_FAILED', 'The request body is not valid JSON.', { hint: 'Send a JSON object with Content-Type: application/json.', details: { issues: [{ path: '(body)', message: 'invalid JSON' }] } });
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new AppError('VALIDATION_FAILED', 'The request could not be read.', { hint: 'Check the body encoding and Content-Type.' });
  }
  return null;
}

/** Turns body-parser failures into 400/413 and anything else into our error shape; never a stack trace. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const bodyErr = bodyErrorOf(err);
    if (bodyErr) return sendError(res, bodyErr);
    const appErr = toAppError(err);
    if (appErr.code === 'INTERNAL') logger.error('unhandled error in REST face', { request_id: res.locals.requestId, err: appErr.cause ?? appErr });
    sendError(res, appErr);
  };
}
