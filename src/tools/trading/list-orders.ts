import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { paginated } from '../../core/schema.js';
import { orderView } from '../../core/trading/order-view.js';
import { Filters, OrderCursor, OrderOut, OrderStatus } from './schemas.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';

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
    limit: PageLimit,
    cursor: OrderCursor,
  }),
  output: paginated(OrderOut),
  http: { method: 'GET', path: '/trading/orders' },
  handler: async (input, ctx) => {
    const page = await ctx.services.trading.list({ ...input, accounts: scopeList(ctx.principal), limit: pageLimit(input.limit, ctx) });
    return { data: page.data.map(orderView), pagination: page.pagination };
  },
});
