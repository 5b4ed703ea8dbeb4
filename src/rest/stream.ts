import { WebSocket } from 'ws';
import { AppError, errorBody, toAppError } from '../core/errors.js';
import { feedId, type FeedKey, type FeedMessage } from '../core/market-data/hub.js';
import { MAX_SUBSCRIPTIONS, StreamRequest } from '../core/market-data/stream-protocol.js';
import type { CommandServices as Services } from '../core/command/types.js';
import { readFrame, sendJson as send, type WsRoute } from './ws-upgrade.js';

export const STREAM_PATH = '/market-data/stream';
/** A client whose socket holds more than this unsent is skipped until it catches up. */
const MAX_BUFFERED = 1 << 20;

/**
 * WS /market-data/stream (the upgrade's gate and heartbeat are ws-upgrade.ts's): JSON messages
 * `{action: subscribe|unsubscribe, channel, connector_name, trading_pair, interval?}`. Updates come
 * from the shared hub; a slow client misses updates rather than delaying anyone else.
 */
export function marketStream(services: Services): WsRoute {
  return { label: 'the market-data stream', serve: (ws) => serve(ws, services) };
}

function serve(ws: WebSocket, services: Services): void {
  const subs = new Map<string, () => void>();
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
    const r = readFrame(text, StreamRequest, {
      what: 'stream request',
      example: '{"action":"subscribe","channel":"ticker","connector_name":"sim","trading_pair":"BTC-USDT"}',
      fields: 'action, channel, connector_name, trading_pair, interval (candles)',
    });
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
