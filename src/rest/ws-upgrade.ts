import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { z } from 'zod';
import { zodIssues } from '../core/command/index.js';
import { AppError, errorBody, httpStatusOf, toAppError } from '../core/errors.js';
import { parseBasicAuth } from '../core/auth/authenticator.js';
import { originAllowed } from '../core/auth/origin-policy.js';
import type { Principal } from '../core/principal.js';
import type { CommandServices as Services } from '../core/command/types.js';
import { throttledError } from './auth.js';
import { endWithJson } from './client-error.js';

/** One WebSocket route: what it is called in refusals, and what serves an accepted connection. */
export interface WsRoute {
  /** As a refusal names it: "the market-data stream". */
  label: string;
  serve(ws: WebSocket, principal: Principal): void;
}

const HEARTBEAT_MS = 15_000;

/**
 * Every WebSocket route of the server behind one upgrade handler, so that each gets the same gate:
 * the Origin rule of /mcp, then HTTP Basic through the login gate (throttle first), refused with the
 * REST error body before any socket is accepted; an unknown path is a 404. Accepted connections get a
 * heartbeat (a JSON message with the server's time, plus ping/pong that closes dead connections).
 */
export function attachWebSockets(http: HttpServer, services: Services, routes: Record<string, WsRoute>): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const allowedOrigins = new Set(services.config.mcpAllowedOrigins);

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return refuse(socket, 404, 'Not Found');
    // No same-origin policy guards a WebSocket: a page elsewhere could open one with the browser's
    // cached credentials. Browser origins get the same rule as /mcp.
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin, req.headers.host, allowedOrigins)) {
      const err = new AppError('POLICY_DENIED', `Origin ${origin} is not allowed for ${route.label}.`, {
        hint: 'Only pages served by this server may open the stream from a browser. To admit another web app, add its origin to MCP_ALLOWED_ORIGINS.',
      });
      return endWithJson(socket, httpStatusOf(err.code), errorBody(err));
    }
    const creds = parseBasicAuth(req.headers.authorization);
    // The same gate as every REST route: a throttled attempt is refused before any password check.
    void (creds ? services.login.login(creds.username, creds.password, req.socket.remoteAddress) : Promise.resolve(null)).then(
      (outcome) => {
        if (outcome?.ok) {
          return wss.handleUpgrade(req, socket, head, (ws) => {
            // A frame the receiver refuses (over maxPayload, malformed) closes the connection with its
            // code and emits 'error': unheard, that error would be thrown and end the whole server.
            ws.on('error', (err) => services.logger.debug('stream connection error', { path, err: (err as Error).message }));
            markAlive(ws);
            route.serve(ws, outcome.principal);
          });
        }
        if (outcome?.reason === 'throttled') {
          const err = throttledError(outcome.retryAfterS, outcome.scope);
          return endWithJson(socket, httpStatusOf(err.code), errorBody(err), { 'Retry-After': String(outcome.retryAfterS) });
        }
        refuse(socket, 401, 'Unauthorized', { 'WWW-Authenticate': 'Basic realm="tradedesk"' });
      },
      (err) => {
        // The same mapping as REST (a database outage is the 503 there, not a bare 500).
        const e = toAppError(err);
        if (e.code === 'INTERNAL') services.logger.error('stream upgrade: login check failed', { err });
        endWithJson(socket, httpStatusOf(e.code), errorBody(e));
      },
    );
  });

  const beat = setInterval(() => {
    // The server's time in the same clock as the data the streams carry, so a client can judge staleness.
    const heartbeat = JSON.stringify({ type: 'heartbeat', time: services.clock.date().toISOString() });
    for (const ws of wss.clients) {
      const s = ws as WebSocket & { alive?: boolean };
      if (s.alive === false) {
        ws.terminate();
        continue;
      }
      s.alive = false;
      ws.ping();
      if (ws.readyState === WebSocket.OPEN) ws.send(heartbeat);
    }
  }, HEARTBEAT_MS);
  beat.unref();

  return {
    close: () => {
      clearInterval(beat);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

function markAlive(ws: WebSocket): void {
  const s = ws as WebSocket & { alive?: boolean };
  s.alive = true;
  ws.on('pong', () => (s.alive = true));
}

/** Sends one JSON message if the socket is open. */
export function sendJson(ws: WebSocket, body: Record<string, unknown>): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(body));
}

function refuse(socket: Duplex, status: 401 | 404, text: string, headers: Record<string, string> = {}): void {
  const code = status === 401 ? 'UNAUTHENTICATED' : 'NOT_FOUND';
  endWithJson(socket, status, { error: { code, message: text, retryable: false } }, headers);
}

/**
 * One client frame read as JSON and checked against a stream's request schema; a VALIDATION_FAILED
 * AppError naming what is wrong otherwise (`example`: a frame that works; `fields`: the fields it takes).
 */
export function readFrame<S extends z.ZodType>(text: string, schema: S, help: { what: string; example: string; fields: string }): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'The message is not valid JSON.', { hint: `Send ${help.example}.` });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', `Invalid ${help.what}.`, { details: { issues: zodIssues(parsed.error) }, hint: `Fields: ${help.fields}.` });
  return parsed.data;
}
