import { BotStreamRequest, MAX_STREAM_BOTS } from '../core/bots/feed.js';
import { toJsonSchema } from '../core/command/index.js';
import { MAX_SUBSCRIPTIONS, StreamRequest } from '../core/market-data/stream-protocol.js';
import { BOT_STREAM_PATH, BOT_STREAM_MAX_BUFFERED } from './bot-stream.js';
import { STREAM_PATH } from './stream.js';

/*
 * The two WebSocket streams as OpenAPI entries. OpenAPI has no WebSocket operation, so each is the GET
 * that upgrades (101), with the JSON a client sends under `x-websocket-client-message` and what the
 * server sends described in prose: a client generator skips them, a reader of the docs finds them.
 */

const upgradeResponses = (what: string) => ({
  '101': { description: `Switching Protocols: the connection is ${what}.` },
  '401': { description: 'No or wrong Basic credentials (answered before the upgrade, with the error body).' },
  '403': { description: 'A browser Origin that is neither this server nor one in MCP_ALLOWED_ORIGINS.' },
  '429': { description: 'Too many failed logins: wait for Retry-After.' },
  '503': { description: 'The database is unreachable, so the login cannot be checked.' },
});

export function streamPaths(): Record<string, Record<string, unknown>> {
  return {
    [STREAM_PATH]: {
      get: {
        operationId: 'market_data_stream',
        summary: 'Market-data stream (WebSocket)',
        tags: ['market_data'],
        description:
          `Upgrade to a WebSocket with Basic auth. The server greets with \`{type:"welcome", channels, max_subscriptions: ${MAX_SUBSCRIPTIONS}}\`; ` +
          'each client message subscribes or unsubscribes one channel (ticker, orderbook, trades, candles) of one pair and is answered `{type:"subscribed"|"unsubscribed", subscription}` or `{type:"error", code, message, hint}`. ' +
          'Updates then come as `{type: <channel>, connector_name, trading_pair, interval?, data}`. A client that reads too slowly misses updates rather than delaying others. Every 15 s the server sends `{type:"heartbeat", time}` and a ping; a connection that misses a pong is closed.',
        'x-websocket-client-message': toJsonSchema(StreamRequest, 'input'),
        responses: upgradeResponses('a market-data stream'),
      },
    },
    [BOT_STREAM_PATH]: {
      get: {
        operationId: 'bot_orchestration_stream',
        summary: 'Bots live view (WebSocket)',
        tags: ['bots'],
        description:
          `Upgrade to a WebSocket with Basic auth. The server greets with \`{type:"welcome", kinds:["state","status","log","performance"], max_bots: ${MAX_STREAM_BOTS}}\`; ` +
          'a client subscribes to named bots or (bot_ids omitted) to every bot it may see, and is answered `{type:"subscribed", all, bot_ids, not_found?}`. ' +
          'Events come as `{type: state|status|log|performance, bot_id, at, timestamp, data}`: `state` (observed state and exit code), `status` (availability), `log` (one log line), `performance` (a report); secret-named fields are masked. Every 15 s the server sends `{type:"heartbeat", time}`. ' +
          `An admin sees every bot, anyone else only their own. A connection holding more than ${BOT_STREAM_MAX_BUFFERED / 1024} KB unsent misses events and is told \`{type:"dropped", count}\`.`,
        'x-websocket-client-message': toJsonSchema(BotStreamRequest, 'input'),
        responses: upgradeResponses('the bots live view'),
      },
    },
  };
}
