import express, { Router, type Request, type RequestHandler } from 'express';
import { channelsOf, execute, pathParams, type Registry, type Surface } from '../core/command/index.js';
import { AppError } from '../core/errors.js';
import type { CommandServices as Services } from '../core/command/types.js';
import { bodyErrorOf } from './errors.js';

const REST_SURFACE: Surface = { channel: 'rest', toolsets: 'all', readOnly: false };

/** `/accounts/{account_name}` → `/accounts/:account_name` */
export function expressPath(path: string): string {
  return path.replace(/\{([a-z_][a-z0-9_]*)\}/g, ':$1');
}

/**
 * The JSON body parser, with its failures handed to the command route when the request is for one (so
 * the call is journaled there); anywhere else (the MCP mount, an unknown path) they are answered as before.
 */
export function commandBodyParser(registry: Registry, limit: string): RequestHandler {
  const json = express.json({ limit });
  const routes = registry.commands
    .filter((c) => channelsOf(c).includes('rest'))
    .map((c) => ({ method: c.http.method, re: new RegExp(`^${expressPath(c.http.path).replace(/:[a-z_][a-z0-9_]*/g, '[^/]+')}/?$`) }));
  const isCommand = (req: Request) => routes.some((r) => r.method === req.method && r.re.test(req.path));
  return (req, res, next) => {
    // Nothing reads the body of a GET or HEAD (a command's input comes from the query string), so the
    // parser's content-type and length checks are not paid on every read.
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    json(req, res, (err?: unknown) => {
      const bodyErr = err ? bodyErrorOf(err) : null;
      if (bodyErr && isCommand(req)) {
        res.locals.bodyError = bodyErr;
        req.body = {};
        return next();
      }
      next(err);
    });
  };
}

/**
 * One route per command, derived from its binding. The input is the path parameters merged with the
 * query string (GET, DELETE) or the JSON body (POST, PUT, PATCH); everything else is execute()'s job.
 */
export function commandRoutes(registry: Registry, services: Services): Router {
  const router = Router();
  // Routes are grouped under their first path segment (/trading, /accounts, ...): a request is matched
  // against a dozen groups and then its group's routes, not against every route in turn.
  const groups = new Map<string, Router>();
  const routerFor = (path: string): { r: Router; rest: string } => {
    const m = /^\/([a-z][a-z0-9-]*)(\/.*)?$/.exec(path);
    if (!m) return { r: router, rest: path };
    let g = groups.get(m[1]!);
    if (!g) {
      g = Router();
      groups.set(m[1]!, g);
      router.use(`/${m[1]}`, g);
    }
    return { r: g, rest: m[2] ?? '/' };
  };
  for (const cmd of registry.commands) {
    if (!channelsOf(cmd).includes('rest')) continue;
    const method = cmd.http.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    const params = pathParams(cmd.http.path);
    const { r, rest } = routerFor(expressPath(cmd.http.path));
    r[method](rest, async (req, res) => {
      // A body that could not be read, or input that cannot be assembled, is still this command's call:
      // execute() refuses it and journals it, so every authenticated call is a row.
      let refusal = res.locals.bodyError as AppError | undefined;
      let input: Record<string, unknown> = {};
      if (!refusal) {
        try {
          input = assembleInput(req, cmd.http.method, params);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          refusal = err;
        }
      }
      const output = await execute(
        registry,
        cmd.name,
        input,
        { services, principal: res.locals.principal, surface: REST_SURFACE, requestId: res.locals.requestId, logger: services.logger },
        refusal,
      );
      res.status(cmd.http.successStatus ?? 200).json(output);
    });
  }
  return router;
}

function assembleInput(req: Request, method: string, params: string[]): Record<string, unknown> {
  const fromBody = method !== 'GET' && method !== 'DELETE';
  const source: unknown = fromBody ? (req.body ?? {}) : req.query;
  if (source === null || typeof source !== 'object' || Array.isArray(source)) {
    throw new AppError('VALIDATION_FAILED', 'The request body must be a JSON object.', { hint: 'Send the fields as one JSON object, e.g. {"connector_name": "sim", ...}; the route\'s schema is in /openapi.json.', details: { issues: [{ path: '(body)', message: 'expected an object' }] } });
  }
  const input: Record<string, unknown> = { ...(source as Record<string, unknown>) };
  for (const p of params) {
    const value = req.params[p];
    if (p in input && input[p] !== value) {
      throw new AppError('VALIDATION_FAILED', `${p} is given in the path and differs in the ${fromBody ? 'body' : 'query'}.`, {
        details: { issues: [{ path: p, message: 'conflicts with the path parameter' }] },
      });
    }
    input[p] = value;
  }
  return input;
}
