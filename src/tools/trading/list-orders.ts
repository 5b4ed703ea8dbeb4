import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { Limit, paginated } from '../../core/schema.js';
import { orderView } from '../../core/trading/order-view.js';
import { Filters, OpaqueCursor, OrderOut, OrderStatus } from './schemas.js';

export const listOrders = defineCommand({
  name: 'trading_list_orders',
  group: 'trading',
  title: 'List orders',
  description: 'Lists orders, newest first: by default the active ones (open or partially filled); status "all" includes finished orders. Filter by account, connector or pair.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({
    ...Filters,
    status: z.union([z.enum(['active', 'all']), OrderStatus]).optional().describe('"active" (default), "all", or one status.'),
    limit: Limit,
    cursor: OpaqueCursor,
  }),
  output: paginated(OrderOut),
  http: { method: 'GET', path: '/trading/orders' },
  handler: async (input, ctx) => {
    const page = await ctx.services.trading.list({ ...input, accounts: scopeList(ctx.principal), limit: input.limit ?? 100 });
    return { data: page.data.map(orderView), pagination: page.pagination };
  },
});
