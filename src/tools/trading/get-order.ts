import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { fillView, orderView } from '../../core/trading/order-view.js';
import { FillOut, OrderOut, OrderRef } from './schemas.js';

export const getOrder = defineCommand({
  name: 'trading_get_order',
  group: 'trading',
  title: 'Get order',
  description: 'Returns one order, by order_id or client_order_id, with all its fills.',
  // A bot's strategy places and follows its orders through these, as principal bot:<name> (src/core/bots/gateway.ts).
  channels: ['rest', 'mcp', 'bot'],
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject(OrderRef),
  output: z.object({ order: OrderOut, fills: z.array(FillOut) }),
  http: { method: 'GET', path: '/trading/orders/{order_id}' },
  handler: async (input, ctx) => {
    const order = await ctx.services.trading.get(input.account_name, input.order_id, scopeList(ctx.principal));
    ctx.journal = { ...ctx.journal, accountName: order.accountName };
    const fills = await ctx.services.trading.fills({ order_id: order.id, limit: 1000 });
    return { order: orderView(order), fills: fills.data.reverse().map(fillView) };
  },
});
