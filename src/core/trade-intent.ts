/**
 * What a trading command is about to do, declared by the command so that the guards see every
 * symbol-bearing write the same way. `reducing` actions (closes, reduce-only orders) are never capped.
 */
export interface TradeIntent {
  kind: 'order' | 'close' | 'leverage';
  account: string;
  connector: string;
  pair: string;
  reducing: boolean;
  side?: 'buy' | 'sell';
  orderType?: 'market' | 'limit' | 'limit_maker';
  amount?: string;
  price?: string;
  leverage?: number;
  positionAction?: 'open' | 'close';
  clientOrderId?: string;
  confirmationToken?: string;
  /** The human approval this order is sent under (policy `confirmation: human`). */
  approvalId?: string;
}
