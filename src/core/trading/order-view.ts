import type { FillRow, OrderRow, PositionRow } from '../db/schema/index.js';

const n = (v: string | null) => (v === null ? null : Number(v));

export interface OrderView {
  order_id: string;
  client_order_id: string;
  account_name: string;
  connector_name: string;
  trading_pair: string;
  side: 'buy' | 'sell';
  order_type: 'market' | 'limit' | 'limit_maker';
  amount: number;
  price: number | null;
  position_action: 'open' | 'close' | null;
  leverage: number | null;
  status: OrderRow['status'];
  filled_amount: number;
  average_fill_price: number | null;
  fee_paid: number;
  fee_asset: string | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
}

export function orderView(o: OrderRow): OrderView {
  return {
    order_id: o.id,
    client_order_id: o.clientOrderId,
    account_name: o.accountName,
    connector_name: o.connectorName,
    trading_pair: o.tradingPair,
    side: o.side,
    order_type: o.orderType,
    amount: Number(o.amount),
    price: n(o.price),
    position_action: o.positionAction,
    leverage: o.leverage,
    status: o.status,
    filled_amount: Number(o.filledAmount),
    average_fill_price: n(o.averageFillPrice),
    fee_paid: Number(o.feePaid),
    fee_asset: o.feeAsset,
    error_message: o.errorMessage,
    created_at: o.createdAt.toISOString(),
    updated_at: o.updatedAt.toISOString(),
  };
}

export function fillView(f: FillRow) {
  return {
    fill_id: f.fillId,
    order_id: f.orderId,
    account_name: f.accountName,
    connector_name: f.connectorName,
    trading_pair: f.tradingPair,
    side: f.side,
    price: Number(f.price),
    amount: Number(f.amount),
    fee: Number(f.fee),
    fee_asset: f.feeAsset,
    is_maker: f.isMaker,
    realized_pnl: n(f.realizedPnl),
    time: f.at.toISOString(),
    timestamp: f.at.getTime(),
  };
}

export function positionView(p: PositionRow, mark: number | null, unrealized: number | null) {
  const amount = Number(p.amount);
  return {
    account_name: p.accountName,
    connector_name: p.connectorName,
    trading_pair: p.tradingPair,
    side: amount > 0 ? ('long' as const) : ('short' as const),
    amount: Math.abs(amount),
    entry_price: Number(p.entryPrice),
    mark_price: mark,
    unrealized_pnl: unrealized,
    leverage: p.leverage,
    margin: Number(p.margin),
    realized_pnl: Number(p.realizedPnl),
    updated_at: p.updatedAt.toISOString(),
  };
}
