import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { iso, QueryInt } from '../../core/schema.js';
import { Level, MarketRef } from './schemas.js';

export const getOrderBook = defineCommand({
  name: 'market_data_get_order_book',
  group: 'market_data',
  title: 'Get order book',
  description:
    'An order-book snapshot: bids (highest first) and asks (lowest first), up to `depth` levels each. Use it to judge liquidity and a market order\'s slippage.',
  // A bot's strategy reads the market through these (src/core/bots/gateway.ts).
  channels: ['rest', 'mcp', 'bot'],
  risk: 'read',
  idempotent: true,
  openWorld: true,
  input: z.strictObject({
    ...MarketRef,
    depth: QueryInt(1, 100).optional().describe('Levels per side, 1-100 (default 20).'),
  }),
  output: z.object({
    connector_name: z.string(),
    trading_pair: z.string(),
    timestamp: z.number(),
    time: z.string(),
    bids: z.array(Level),
    asks: z.array(Level),
    depth: z.number().int(),
  }),
  http: { method: 'GET', path: '/market-data/orderbook/{trading_pair}' },
  handler: async (input, ctx) => {
    const depth = input.depth ?? 20;
    const ob = await ctx.services.marketData.orderBook(input.connector_name, input.trading_pair, depth);
    return { connector_name: input.connector_name, ...ob, time: iso(ob.timestamp), depth };
  },
});
