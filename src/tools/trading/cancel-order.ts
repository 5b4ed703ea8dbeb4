import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { orderView } from '../../core/trading/order-view.js';
import { OrderOut, OrderRef } from './schemas.js';

export const cancelOrder = defineCommand({
  name: 'trading_cancel_order',
  group: 'trading',
  title: 'Cancel order',
  description: 'Cancels an open or partially filled order (by order_id or client_order_id) and releases the funds it held. What already filled stays filled.',
  // A bot's strategy places and follows its orders through these, as principal bot:<name> (src/core/bots/gateway.ts).
  channels: ['rest', 'mcp', 'bot'],
  risk: 'write',
  idempotent: false,
  openWorld: true,
  accountScope: 'filtered',
  input: z.strictObject(OrderRef),
  output: z.object({ order: OrderOut }),
  http: { method: 'DELETE', path: '/trading/orders/{order_id}' },
  handler: async (input, ctx) => {
    // Found first so that the journal row names the order's account even when the cancel is refused.
    const within = scopeList(ctx.principal);
    const order = await ctx.services.trading.get(input.account_name, input.order_id, within);
    ctx.journal = { ...ctx.journal, accountName: order.accountName };
    return { order: orderView(await ctx.services.trading.cancel(order.accountName, order.id, within)) };
  },
});
