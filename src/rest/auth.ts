import type { Request, RequestHandler } from 'express';
import { AppError, errorBody, httpStatusOf } from '../core/errors.js';
import { parseBasicAuth } from '../core/auth/authenticator.js';
import type { LoginGate, LoginOutcome } from '../core/auth/login.js';
import { sendError } from './errors.js';

const CREDENTIALS_HINT =
  'Send Authorization: Basic base64(username:password). The first start printed the generated admin password and ' +
  'left it in DATA_DIR/admin-password.txt until the first login; `tradedesk reset-admin-password` sets a new one. ' +
  'In server mode use API_USERNAME/API_PASSWORD.';

/** The API docs are opened in a browser: say what the browser's login prompt wants. */
const DOCS_HINT =
  'The docs and the OpenAPI document need the same credentials as the API: your browser asks for them ' +
  '(username admin and the password printed at first start, also in DATA_DIR/admin-password.txt until the first login). ' +
  'If you dismissed the prompt, reload the page.';

/** HTTP Basic on every route it guards; the principal goes to `res.locals.principal`. */
export function basicAuth(gate: LoginGate): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    const known = header === undefined ? undefined : gate.remembered(req.socket, header);
    if (known) {
      res.locals.principal = known;
      return next();
    }
    const creds = parseBasicAuth(header);
    const outcome: LoginOutcome = creds ? await gate.login(creds.username, creds.password, req.socket.remoteAddress) : { ok: false, reason: 'credentials' };
    if (outcome.ok) {
      gate.remember(req.socket, header!, outcome.principal);
      res.locals.principal = outcome.principal;
      return next();
    }
    if (outcome.reason === 'throttled') {
      const err = throttledError(outcome.retryAfterS, outcome.scope);
      res.setHeader('Retry-After', String(outcome.retryAfterS));
      res.status(httpStatusOf(err.code)).json(errorBody(err, res.locals.requestId as string | undefined));
      return;
    }
    sendError(
      res,
      new AppError('UNAUTHENTICATED', creds ? 'The username or password is wrong.' : 'This route needs HTTP Basic credentials.', {
        hint: isDocs(req) ? DOCS_HINT : CREDENTIALS_HINT,
      }),
    );
  };
}

/** The 429 for a throttled login, on every face that takes Basic credentials. */
export function throttledError(retryAfterS: number, scope: 'address' | 'user'): AppError {
  return new AppError('RATE_LIMITED', scope === 'address' ? 'Too many failed logins from this address.' : 'Too many failed logins for this user.', {
    hint:
      `Wait ${retryAfterS} s (Retry-After) before trying again, and check the username and password.` +
      (scope === 'user' ? ' Addresses this user has logged in from before are not held back.' : ''),
    details: { retry_after_s: retryAfterS },
  });
}

const isDocs = (req: Request) => req.path === '/openapi.json' || req.path === '/docs' || req.path.startsWith('/docs/');
