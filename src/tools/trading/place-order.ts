import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountName, ConnectorName, PositiveDecimalIn, TradingPair } from '../../core/schema.js';
import { fillView, orderView } from '../../core/trading/order-view.js';
import { DEFAULT_ACCOUNT, FillOut, OrderOut } from './schemas.js';

export const placeOrder = defineCommand({
  name: 'trading_place_order',
  group: 'trading',
  title: 'Place order',
  description:
    'Places a market, limit or limit_maker order and returns it with its immediate fills. Amounts are in the base asset and are rounded down to the market\'s step; read connectors_get_trading_rules and market_data_get_ticker first. A limit order that does not fill at once rests until it fills or is canceled. Pass a client_order_id to make a retry safe: the same id returns the first order instead of placing another.',
  risk: 'destructive',
  idempotent: false,
  openWorld: true,
  input: z
    .strictObject({
      account_name: AccountName.optional().describe('Account to trade from (default "master_account").'),
      connector_name: ConnectorName,
      trading_pair: TradingPair,
      side: z.enum(['buy', 'sell']),
      order_type: z.enum(['market', 'limit', 'limit_maker']).describe('market fills now against the book; limit may rest; limit_maker is refused if it would fill at once.'),
      amount: PositiveDecimalIn.describe('Order size in the base asset, e.g. 0.01 for 0.01 BTC.'),
      price: PositiveDecimalIn.optional().describe('Limit price in the quote asset; required for limit and limit_maker, not allowed for market.'),
      client_order_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-", at most 64').optional().describe('Your id for this order; a retry with the same id returns the original order.'),
      position_action: z.enum(['open', 'close']).optional().describe('Perpetuals only: "close" only reduces the position (reduce-only).'),
      leverage: z.number().int().min(1).max(125).optional().describe('Perpetuals only: leverage for a new position (default 1).'),
    })
    .superRefine((v, ctx) => {
      if (v.order_type !== 'market' && v.price === undefined) ctx.addIssue({ code: 'custom', path: ['price'], message: `required for a ${v.order_type} order` });
      if (v.order_type === 'market' && v.price !== undefined) ctx.addIssue({ code: 'custom', path: ['price'], message: 'not allowed for a market order' });
    }),
  output: z.object({
    order: OrderOut,
    fills: z.array(FillOut),
    replayed: z.boolean().describe('True when client_order_id matched an earlier order: nothing new was placed.'),
    book_source: z.string().nullable().describe('The book the order filled against; "sim" when a paper connector\'s exchange was unreachable.'),
  }),
  http: { method: 'POST', path: '/trading/orders', successStatus: 201 },
  handler: async (input, ctx) => {
    const { trading } = ctx.services;
    const result = await trading.place({ ...input, account_name: input.account_name ?? DEFAULT_ACCOUNT });
    const fills = await trading.fills({ order_id: result.order.id, limit: 1000 });
    return { order: orderView(result.order), fills: fills.data.reverse().map(fillView), replayed: result.replayed, book_source: result.book_source };
  },
});
