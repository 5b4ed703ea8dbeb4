import type { RequestHandler } from 'express';
import { AppError } from '../core/command/index.js';
import { parseBasicAuth, type Authenticator } from '../core/auth/authenticator.js';
import { sendError } from './errors.js';

/** HTTP Basic on every route it guards; the principal goes to `res.locals.principal`. */
export function basicAuth(auth: Authenticator): RequestHandler {
  return async (req, res, next) => {
    const creds = parseBasicAuth(req.headers.authorization);
    const principal = creds ? await auth.verify(creds.username, creds.password) : null;
    if (!principal) {
      return sendError(
        res,
        new AppError('UNAUTHENTICATED', creds ? 'The username or password is wrong.' : 'This route needs HTTP Basic credentials.', {
          hint: 'Send Authorization: Basic base64(username:password). The first start printed the generated admin password; in server mode use API_USERNAME/API_PASSWORD.',
        }),
      );
    }
    res.locals.principal = principal;
    next();
  };
}
