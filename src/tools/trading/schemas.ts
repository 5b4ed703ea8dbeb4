import { z } from 'zod';
import { AccountName, ConnectorName, TradingPair } from '../../core/schema.js';

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
  order_id: z.string().min(1).max(80).describe('The order_id, or your client_order_id.'),
  account_name: AccountName.optional().describe('Needed only when the same client_order_id exists on several accounts.'),
};

export const OpaqueCursor = z.string().max(200).optional().describe("Opaque cursor from a previous page's pagination.next_cursor.");
export const DEFAULT_ACCOUNT = 'master_account';
