import express, { type Request, type RequestHandler, type Response } from 'express';
import { channelsOf, execute, pathParams, type Registry, type Surface } from '../core/command/index.js';
import { AppError } from '../core/errors.js';
import type { CommandServices as Services } from '../core/command/types.js';
import { bodyErrorOf } from './errors.js';

const REST_SURFACE: Surface = { channel: 'rest', toolsets: 'all', readOnly: false };


/**
 * The JSON body parser for what is not a command route (the MCP mount); a command route reads its body
 * itself (commandRoutes), so that a body it cannot read is still that command's journaled call.
 */
export function jsonBodyParser(limit: string): RequestHandler {
  const json = express.json({ limit });
  // Nothing reads the body of a GET or HEAD, so the parser's content-type and length checks are not paid on every read.
  return (req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? next() : json(req, res, next));
}

/** One command's route: its path as a pattern, and the names of its path parameters in order. */
interface CommandRoute {
  re: RegExp;
  params: string[];
  handle: (req: Request, res: Response, params: Record<string, string>) => Promise<void>;
}

/**
 * One route per command, derived from its binding. The input is the path parameters merged with the
 * query string (GET, DELETE) or the JSON body (POST, PUT, PATCH); everything else is execute()'s job.
 *
 * One middleware dispatches them all through a table keyed by method and first path segment, rather than
 * a router per group: a call then tests the few patterns of its own group, not every layer of every
 * router in turn (that walk was a tenth of a read's CPU). It matches as express does by default:
 * case-insensitive, an optional trailing slash, each parameter one URL-decoded segment; HEAD is served
 * by the GET route. A path no command has goes on to the next handler (the 404).
 */
export function commandRoutes(registry: Registry, services: Services, opts: { auth: RequestHandler; bodyLimit: string }): RequestHandler {
  const table = new Map<string, CommandRoute[]>();
  const json = express.json({ limit: opts.bodyLimit });
  for (const cmd of registry.commands) {
    if (!channelsOf(cmd).includes('rest')) continue;
    const params = pathParams(cmd.http.path);
    const source = cmd.http.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[a-z_][a-z0-9_]*\}/g, '([^/]+)');
    const route: CommandRoute = {
      re: new RegExp(`^${source}/?$`, 'i'),
      params,
      handle: async (req, res, values) => {
        // A body that could not be read, or input that cannot be assembled, is still this command's call:
        // execute() refuses it and journals it, so every authenticated call is a row.
        let refusal = res.locals.bodyError as AppError | undefined;
        let input: Record<string, unknown> = {};
        if (!refusal) {
          try {
            input = assembleInput(req, cmd.http.method, values);
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
        sendJson(res, cmd.http.successStatus ?? 200, output);
      },
    };
    const key = `${cmd.http.method} ${firstSegment(cmd.http.path)}`;
    const list = table.get(key);
    if (list) list.push(route);
    else table.set(key, [route]);
  }
  return (req, res, next) => {
    const path = req.path;
    const routes = table.get(`${req.method === 'HEAD' ? 'GET' : req.method} ${firstSegment(path)}`);
    if (!routes) return next();
    for (const route of routes) {
      const m = route.re.exec(path);
      if (!m) continue;
      // The route is known: authenticate, read the body, dispatch, each step handing on to the next
      // directly rather than through the app's middleware stack (a read pays for one layer, not five).
      opts.auth(req, res, (authErr?: unknown) => {
        if (authErr) return next(authErr);
        const values: Record<string, string> = {};
        for (let i = 0; i < route.params.length; i++) {
          const name = route.params[i]!;
          try {
            values[name] = decodeURIComponent(m[i + 1]!);
          } catch {
            return next(new AppError('VALIDATION_FAILED', `The path segment for ${name} is not valid percent-encoding.`, { hint: 'Percent-encode the value as UTF-8.', details: { issues: [{ path: name, message: 'invalid percent-encoding' }] } }));
          }
        }
        if (req.method === 'GET' || req.method === 'HEAD') {
          route.handle(req, res, values).catch(next);
          return;
        }
        json(req, res, (err?: unknown) => {
          const bodyErr = err ? bodyErrorOf(err) : null;
          if (err && !bodyErr) return next(err);
          // A body that cannot be read is still this command's call: execute() refuses it and journals it.
          if (bodyErr) {
            res.locals.bodyError = bodyErr;
            req.body = {};
          }
          route.handle(req, res, values).catch(next);
        });
      });
      return;
    }
    next();
  };
}

/**
 * What res.json sends, without its per-call settings lookups, content-type negotiation and freshness
 * check (none apply: no ETag, no JSONP, a fixed type): the same bytes and headers for less CPU.
 */
function sendJson(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** `/connectors/sim/markets` → `connectors`, lowercased (routes match case-insensitively). */
function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return (end === -1 ? path.slice(1) : path.slice(1, end)).toLowerCase();
}

function assembleInput(req: Request, method: string, params: Record<string, string>): Record<string, unknown> {
  const fromBody = method !== 'GET' && method !== 'DELETE';
  const source: unknown = fromBody ? (req.body ?? {}) : req.query;
  if (source === null || typeof source !== 'object' || Array.isArray(source)) {
    throw new AppError('VALIDATION_FAILED', 'The request body must be a JSON object.', { hint: 'Send the fields as one JSON object, e.g. {"connector_name": "sim", ...}; the route\'s schema is in /openapi.json.', details: { issues: [{ path: '(body)', message: 'expected an object' }] } });
  }
  const input: Record<string, unknown> = { ...(source as Record<string, unknown>) };
  for (const [p, value] of Object.entries(params)) {
    if (p in input && input[p] !== value) {
      throw new AppError('VALIDATION_FAILED', `${p} is given in the path and differs in the ${fromBody ? 'body' : 'query'}.`, {
        details: { issues: [{ path: p, message: 'conflicts with the path parameter' }] },
      });
    }
    input[p] = value;
  }
  return input;
}
