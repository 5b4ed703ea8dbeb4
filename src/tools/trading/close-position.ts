import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountName, PositiveDecimalIn, TradingPair } from '../../core/schema.js';
import { fillView, orderView } from '../../core/trading/order-view.js';
import { DEFAULT_ACCOUNT, FillOut, OrderOut } from './schemas.js';
import { Connector } from '../fields.js';

export const closePosition = defineCommand({
  name: 'trading_close_position',
  group: 'trading',
  title: 'Close position',
  description: 'Closes a perpetual position (or part of it) with a reduce-only market order on the opposite side. Returns the closing order and its fills.',
  risk: 'destructive',
  idempotent: false,
  openWorld: true,
  accountScope: { default: DEFAULT_ACCOUNT },
  input: z.strictObject({
    account_name: AccountName.optional().describe('Account holding the position (default "master_account").'),
    connector_name: Connector,
    trading_pair: TradingPair,
    amount: PositiveDecimalIn.optional().describe('Close only this much (base asset); the whole position when omitted.'),
    client_order_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional().describe('Makes a retry safe, as for trading_place_order.'),
  }),
  output: z.object({ order: OrderOut, fills: z.array(FillOut), replayed: z.boolean() }),
  http: { method: 'POST', path: '/trading/close-position', successStatus: 201 },
  trade: (input) => ({ kind: 'close', account: input.account_name ?? DEFAULT_ACCOUNT, connector: input.connector_name, pair: input.trading_pair, reducing: true, clientOrderId: input.client_order_id }),
  handler: async (input, ctx) => {
    const { trading } = ctx.services;
    const result = await trading.closePosition({ ...input, account_name: input.account_name ?? DEFAULT_ACCOUNT });
    return { order: orderView(result.order), fills: result.fills.map(fillView), replayed: result.replayed };
  },
});
