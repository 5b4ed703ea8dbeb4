import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageOf, paginated, Text } from '../../core/schema.js';
import { MarketOut, marketOut } from './schemas.js';
import { pageLimit, PageCursor, PageLimit } from '../../core/pagination.js';
import { Connector } from '../fields.js';

export const listMarkets = defineCommand({
  name: 'connectors_list_markets',
  group: 'connectors',
  title: 'List markets',
  description:
    'The trading pairs (BASE-QUOTE) a connector offers, optionally filtered by asset. Use it to find a market before reading prices or ordering.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  input: z.strictObject({
    connector_name: Connector,
    search: Text({ max: 20 }).optional().describe('Only pairs whose base or quote contains this text, e.g. "BTC".'),
    limit: PageLimit,
    cursor: PageCursor,
  }),
  output: paginated(MarketOut).extend({ connector_name: z.string() }),
  http: { method: 'GET', path: '/connectors/{connector_name}/markets' },
  handler: async (input, ctx) => {
    const connector = await ctx.services.connectors.get(input.connector_name);
    const q = input.search?.toUpperCase();
    const markets = (await connector.loadMarkets()).filter((m) => !q || m.base.includes(q) || m.quote.includes(q));
    return { connector_name: input.connector_name, ...pageOf(markets.map(marketOut), pageLimit(input.limit, ctx), input.cursor) };
  },
});
