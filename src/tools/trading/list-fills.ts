import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { Limit, paginated } from '../../core/schema.js';
import { fillView } from '../../core/trading/order-view.js';
import { FillOut, Filters, OpaqueCursor } from './schemas.js';

export const listFills = defineCommand({
  name: 'trading_list_fills',
  group: 'trading',
  title: 'Trade history',
  description: 'Lists executed trades (fills), newest first, with price, amount, fee, maker/taker and realized PnL for perpetual closes.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ ...Filters, order_id: z.string().max(80).optional().describe('Only the fills of this order.'), limit: Limit, cursor: OpaqueCursor }),
  output: paginated(FillOut),
  http: { method: 'GET', path: '/trading/history' },
  handler: async (input, ctx) => {
    const page = await ctx.services.trading.fills({ ...input, accounts: scopeList(ctx.principal), limit: input.limit ?? 100 });
    return { data: page.data.map(fillView), pagination: page.pagination };
  },
});
