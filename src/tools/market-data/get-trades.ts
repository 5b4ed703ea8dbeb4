import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { iso, QueryInt } from '../../core/schema.js';
import { MarketRef } from './schemas.js';

export const getTrades = defineCommand({
  name: 'market_data_get_trades',
  group: 'market_data',
  title: 'Get recent trades',
  description: 'Returns the most recent public trades of a market, oldest first: price, amount and the taker side. At most 500.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  input: z.strictObject({
    ...MarketRef,
    limit: QueryInt(1, 500).optional().describe('Maximum trades, 1-500 (default 50).'),
  }),
  output: z.object({
    connector_name: z.string(),
    trading_pair: z.string(),
    trades: z.array(z.object({ trade_id: z.string(), timestamp: z.number(), time: z.string(), side: z.enum(['buy', 'sell']), price: z.number(), amount: z.number() })),
  }),
  http: { method: 'GET', path: '/market-data/trades/{trading_pair}' },
  handler: async (input, ctx) => {
    const trades = await ctx.services.marketData.trades(input.connector_name, input.trading_pair, input.limit ?? 50);
    return { connector_name: input.connector_name, trading_pair: input.trading_pair, trades: trades.map((t) => ({ ...t, time: iso(t.timestamp) })) };
  },
});
