import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

/** Takes a sane X-Request-Id from the caller or makes one, and echoes it on the response. */
export const requestId: RequestHandler = (req, res, next) => {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
};
