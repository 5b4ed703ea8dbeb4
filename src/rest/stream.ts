import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { AppError, errorBody, httpStatusOf, toAppError } from '../core/errors.js';
import { parseBasicAuth } from '../core/auth/authenticator.js';
import { originAllowed } from '../core/auth/origin-policy.js';
import { throttledError } from './auth.js';
import { endWithJson } from './client-error.js';
import { feedId, type FeedKey, type FeedMessage } from '../core/market-data/hub.js';
import { MAX_SUBSCRIPTIONS, StreamRequest } from '../core/market-data/stream-protocol.js';
import type { CommandServices as Services } from '../core/command/types.js';
import { zodIssues } from '../core/command/index.js';

export const STREAM_PATH = '/market-data/stream';
/** A client whose socket holds more than this unsent is skipped until it catches up. */
const MAX_BUFFERED = 1 << 20;
const HEARTBEAT_MS = 15_000;

/**
 * WS /market-data/stream: Basic auth on the upgrade request (refused with 401 before any socket is
 * accepted), then JSON messages `{action: subscribe|unsubscribe, channel, connector_name,
 * trading_pair, interval?}`. Updates come from the shared hub; a slow client misses updates rather
 * than delaying anyone else, and a heartbeat with ping/pong closes dead connections.
 */
export function attachMarketStream(http: HttpServer, services: Services): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const allowedOrigins = new Set(services.config.mcpAllowedOrigins);

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== STREAM_PATH) return refuse(socket, 404, 'Not Found');
    // No same-origin policy guards a WebSocket: a page elsewhere could open one with the browser's
    // cached credentials. Browser origins get the same rule as /mcp.
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin, req.headers.host, allowedOrigins)) {
      const err = new AppError('POLICY_DENIED', `Origin ${origin} is not allowed for the market-data stream.`, {
        hint: 'Only pages served by this server may open the stream from a browser. To admit another web app, add its origin to MCP_ALLOWED_ORIGINS.',
      });
      return endWithJson(socket, httpStatusOf(err.code), errorBody(err));
    }
    const creds = parseBasicAuth(req.headers.authorization);
    // The same gate as every REST route: a throttled attempt is refused before any password check.
    void (creds ? services.login.login(creds.username, creds.password, req.socket.remoteAddress) : Promise.resolve(null)).then(
      (outcome) => {
        if (outcome?.ok) return wss.handleUpgrade(req, socket, head, (ws) => serve(ws, services));
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
    // The server's time in the same clock as the data the stream carries, so a client can judge staleness.
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

function serve(ws: WebSocket, services: Services): void {
  const subs = new Map<string, () => void>();
  (ws as WebSocket & { alive?: boolean }).alive = true;
  ws.on('pong', () => ((ws as WebSocket & { alive?: boolean }).alive = true));
  send(ws, { type: 'welcome', channels: ['ticker', 'orderbook', 'trades', 'candles'], max_subscriptions: MAX_SUBSCRIPTIONS });

  // One message at a time per connection: a subscription's checks and its registration must not
  // interleave with another's, or a burst could pass the limit or subscribe twice.
  let queue: Promise<void> = Promise.resolve();
  ws.on('message', (raw) => {
    const text = raw.toString();
    queue = queue.then(() => handle(text)).catch((err) => send(ws, { type: 'error', ...errorBody(toAppError(err)).error }));
  });
  ws.on('close', () => {
    for (const off of subs.values()) off();
    subs.clear();
  });

  async function handle(text: string): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AppError('VALIDATION_FAILED', 'The message is not valid JSON.', { hint: 'Send {"action":"subscribe","channel":"ticker","connector_name":"sim","trading_pair":"BTC-USDT"}.' });
    }
    const parsed = StreamRequest.safeParse(json);
    if (!parsed.success) {
      throw new AppError('VALIDATION_FAILED', 'Invalid stream request.', { details: { issues: zodIssues(parsed.error) }, hint: 'Fields: action, channel, connector_name, trading_pair, interval (candles).' });
    }
    const r = parsed.data;
    const key: FeedKey = { connector_name: r.connector_name, trading_pair: r.trading_pair, channel: r.channel, ...(r.channel === 'candles' ? { interval: r.interval ?? '1m' } : {}) };
    const id = feedId(key);
    if (r.action === 'unsubscribe') {
      subs.get(id)?.();
      const had = subs.delete(id);
      send(ws, { type: had ? 'unsubscribed' : 'error', ...(had ? { subscription: id } : { code: 'NOT_FOUND', message: `Not subscribed to ${id}.` }) });
      return;
    }
    if (subs.has(id)) return send(ws, { type: 'subscribed', subscription: id });
    if (subs.size >= MAX_SUBSCRIPTIONS) throw new AppError('RATE_LIMITED', `At most ${MAX_SUBSCRIPTIONS} subscriptions per connection.`, { hint: 'Unsubscribe from some first.' });
    const connector = await services.connectors.get(r.connector_name);
    const markets = await connector.loadMarkets();
    if (!markets.some((m) => m.trading_pair === r.trading_pair)) {
      throw new AppError('NOT_FOUND', `${r.connector_name} does not list ${r.trading_pair}.`, { hint: `GET /connectors/${r.connector_name}/markets lists its pairs.` });
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    subs.set(id, services.hub.subscribe(key, (msg) => deliver(ws, msg)));
    send(ws, { type: 'subscribed', subscription: id });
  }
}

/** One serialisation per message, however many clients receive it. */
const serialised = new WeakMap<FeedMessage, string>();

function deliver(ws: WebSocket, msg: FeedMessage): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  if (ws.bufferedAmount > MAX_BUFFERED) return; // slow reader: skip this update, never wait
  let text = serialised.get(msg);
  if (text === undefined) serialised.set(msg, (text = JSON.stringify(msg)));
  ws.send(text);
}

function send(ws: WebSocket, body: Record<string, unknown>): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(body));
}

function refuse(socket: Duplex, status: 401 | 404, text: string, headers: Record<string, string> = {}): void {
  const code = status === 401 ? 'UNAUTHENTICATED' : 'NOT_FOUND';
  endWithJson(socket, status, { error: { code, message: text, retryable: false } }, headers);
}
