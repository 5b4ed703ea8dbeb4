import { z } from 'zod';
import { KeysetCursor } from '../../core/keyset-cursor.js';
import type { TradeIntent } from '../../core/trade-intent.js';
import { ORDER_ID_RE, type PlaceOrder } from '../../core/trading/trading-service.js';
import { APPROVAL_ID_RE } from '../../core/safety/approvals.js';
import { AccountName, ConnectorName, PositiveDecimalIn, Text, TradingPair } from '../../core/schema.js';
import { Connector } from '../fields.js';

export const OrderStatus = z.enum(['pending_submit', 'open', 'partially_filled', 'filled', 'canceled', 'rejected', 'failed']);

export const OrderOut = z.object({
  order_id: z.string(),
  client_order_id: z.string(),
  account_name: z.string(),
  connector_name: z.string(),
  trading_pair: z.string(),
  side: z.enum(['buy', 'sell']),
  order_type: z.enum(['market', 'limit', 'limit_maker']),
  amount: z.number(),
  price: z.number().nullable(),
  position_action: z.enum(['open', 'close']).nullable(),
  leverage: z.number().int().nullable(),
  status: OrderStatus,
  filled_amount: z.number(),
  average_fill_price: z.number().nullable(),
  fee_paid: z.number(),
  fee_asset: z.string().nullable(),
  error_message: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const FillOut = z.object({
  fill_id: z.string(),
  order_id: z.string(),
  account_name: z.string(),
  connector_name: z.string(),
  trading_pair: z.string(),
  side: z.enum(['buy', 'sell']),
  price: z.number(),
  amount: z.number(),
  fee: z.number(),
  fee_asset: z.string(),
  is_maker: z.boolean(),
  realized_pnl: z.number().nullable(),
  time: z.string(),
  timestamp: z.number(),
});

export const PositionOut = z.object({
  account_name: z.string(),
  connector_name: z.string(),
  trading_pair: z.string(),
  side: z.enum(['long', 'short']),
  amount: z.number(),
  entry_price: z.number(),
  mark_price: z.number().nullable(),
  unrealized_pnl: z.number().nullable(),
  leverage: z.number().int(),
  margin: z.number(),
  realized_pnl: z.number(),
  updated_at: z.string(),
});

/** Filters shared by the order, fill and position lists. */
export const Filters = {
  account_name: AccountName.optional().describe('Only this account.'),
  connector_name: ConnectorName.optional().describe('Only this connector.'),
  trading_pair: TradingPair.optional().describe('Only this pair.'),
};

/** Names one order: by order_id or client_order_id, with the account when a client id is ambiguous. */
export const OrderRef = {
  order_id: Text({ min: 1, max: 80 }).describe('The order_id, or your client_order_id.'),
  account_name: AccountName.optional().describe('Only if that client_order_id is on several accounts.'),
};

/** The order list's keyset cursor, checked in full when parsed: a forged one is a 400 and never reaches a query. */
export const OrderCursor = KeysetCursor(ORDER_ID_RE);
export const DEFAULT_ACCOUNT = 'master_account';

export const ConfirmationToken = Text({ min: 1, max: 400 })
  .describe('From trading_preview_order for this exact order; valid once, for 60 s. A token passed must match the order.');

export const ApprovalId = z
  .string()
  .regex(APPROVAL_ID_RE, 'an approval id like apr_…')
  .describe('The approval a person granted for this exact order; used once.');

/** The order fields the guards check, shared by placing and previewing so both see the same order. */
export function orderIntent(o: Omit<PlaceOrder, 'account_name' | 'client_order_id'> & { account_name?: string }): TradeIntent {
  return {
    kind: 'order',
    account: o.account_name ?? DEFAULT_ACCOUNT,
    connector: o.connector_name,
    pair: o.trading_pair,
    side: o.side,
    orderType: o.order_type,
    amount: o.amount,
    price: o.price,
    leverage: o.leverage,
    positionAction: o.position_action,
    // A close order can only shrink a position (the engine refuses one that would grow or flip it).
    reducing: o.position_action === 'close',
  };
}

/** An order's fields, shared by trading_place_order and trading_preview_order. */
export const OrderFields = {
  account_name: AccountName.optional().describe('Account to trade from (default "master_account").'),
  connector_name: Connector,
  trading_pair: TradingPair,
  side: z.enum(['buy', 'sell']),
  order_type: z.enum(['market', 'limit', 'limit_maker']).describe('market fills now; limit may rest; limit_maker is refused if it would fill at once.'),
  amount: PositiveDecimalIn.describe('Order size in the base asset, e.g. 0.01 for 0.01 BTC.'),
  price: PositiveDecimalIn.optional().describe('Limit price in the quote asset; for limit and limit_maker only.'),
  position_action: z.enum(['open', 'close']).optional().describe('Perpetuals only: "close" only reduces the position (reduce-only).'),
  leverage: z.number().int().min(1).max(125).optional().describe("Perpetuals: leverage of a new position (default: the pair's setting, else 1)."),
};

export function priceRule(v: { order_type: string; price?: string }, ctx: z.RefinementCtx): void {
  if (v.order_type !== 'market' && v.price === undefined) ctx.addIssue({ code: 'custom', path: ['price'], message: `required for a ${v.order_type} order` });
  if (v.order_type === 'market' && v.price !== undefined) ctx.addIssue({ code: 'custom', path: ['price'], message: 'not allowed for a market order' });
}
