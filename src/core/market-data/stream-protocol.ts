import { z } from 'zod';
import { CANDLE_INTERVALS } from '../exchange/types.js';
import { ConnectorName, TradingPair } from '../schema.js';

/** What a client sends on the market-data stream. */
export const StreamRequest = z.strictObject({
  action: z.enum(['subscribe', 'unsubscribe']),
  channel: z.enum(['ticker', 'orderbook', 'trades', 'candles']),
  connector_name: ConnectorName,
  trading_pair: TradingPair,
  interval: z.enum(CANDLE_INTERVALS).optional().describe('Candles only (default 1m).'),
});
export type StreamRequest = z.infer<typeof StreamRequest>;

/** Most subscriptions one connection may hold. */
export const MAX_SUBSCRIPTIONS = 50;
