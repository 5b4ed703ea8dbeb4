import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { IdCursor, paginated, Text } from '../../core/schema.js';
import { fillView } from '../../core/trading/order-view.js';
import { FillOut, Filters } from './schemas.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';

export const listFills = defineCommand({
  name: 'trading_list_fills',
  group: 'trading',
  title: 'Trade history',
  description: 'Lists executed trades (fills), newest first, with price, amount, fee, maker/taker and realized PnL for perpetual closes.',
  // A bot's strategy places and follows its orders through these, as principal bot:<name> (src/core/bots/gateway.ts).
  channels: ['rest', 'mcp', 'bot'],
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ ...Filters, order_id: Text({ min: 1, max: 80 }).optional().describe('Only the fills of this order.'), limit: PageLimit, cursor: IdCursor.describe("The previous page's pagination.next_cursor.") }),
  output: paginated(FillOut),
  http: { method: 'GET', path: '/trading/history' },
  handler: async (input, ctx) => {
    const page = await ctx.services.trading.fills({ ...input, accounts: scopeList(ctx.principal), limit: pageLimit(input.limit, ctx) });
    return { data: page.data.map(fillView), pagination: page.pagination };
  },
});
