import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { Decimal, midPrice } from '../../core/decimal.js';
import { iso } from '../../core/schema.js';
import { MarketRef } from './schemas.js';

export const getTicker = defineCommand({
  name: 'market_data_get_ticker',
  group: 'market_data',
  title: 'Get ticker',
  description:
    'The current price of a market: last trade, best bid and ask, 24 h high, low, volume and change. Read it before sizing or pricing an order.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  input: z.strictObject(MarketRef),
  output: z.object({
    connector_name: z.string(),
    trading_pair: z.string(),
    timestamp: z.number().describe('Epoch milliseconds.'),
    time: z.string(),
    last: z.number(),
    bid: z.number().nullable(),
    ask: z.number().nullable(),
    mid: z.number().nullable(),
    spread_pct: z.number().nullable(),
    high_24h: z.number().nullable(),
    low_24h: z.number().nullable(),
    volume_24h: z.number().nullable().describe('Base-asset volume over 24 hours.'),
    change_24h_pct: z.number().nullable(),
  }),
  http: { method: 'GET', path: '/market-data/ticker/{trading_pair}' },
  handler: async (input, ctx) => {
    const t = await ctx.services.marketData.ticker(input.connector_name, input.trading_pair);
    const mid = t.bid !== null && t.ask !== null ? midPrice(t.bid, t.ask) : null;
    return {
      connector_name: input.connector_name,
      ...t,
      time: iso(t.timestamp),
      mid: mid?.toNumber() ?? null,
      spread_pct: mid && !mid.isZero() && t.bid !== null && t.ask !== null ? new Decimal(String(t.ask)).minus(String(t.bid)).div(mid).times(100).toDecimalPlaces(6).toNumber() : null,
    };
  },
});
