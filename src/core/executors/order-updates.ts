import { Decimal } from '../decimal.js';
import { toAppError } from '../errors.js';
import type { OrderFill, OrderState, OrderUpdate } from '../strategy/types.js';
import type { StoredFill as FillRow, StoredOrder } from './order-actions.js';

const STATE: Record<StoredOrder['status'], OrderState> = {
  pending_submit: 'open',
  open: 'open',
  partially_filled: 'partially_filled',
  filled: 'filled',
  canceled: 'canceled',
  rejected: 'rejected',
  // A live order the server could not confirm was sent: the executor treats it as refused.
  failed: 'rejected',
};

/** Our reason for a refused order, as the executors' close types name it. */
export function rejectionCode(code: string, reason: unknown): string {
  return reason === 'insufficient_funds' ? 'INSUFFICIENT_BALANCE' : code;
}

/** A fee in the quote asset: a fee charged in the base asset is valued at its fill's price. */
function quoteFee(f: FillRow, base: string): Decimal {
  const fee = new Decimal(f.fee);
  return f.feeAsset === base ? fee.times(f.price) : fee;
}

/**
 * The executor's view of one stored order: cumulative state, and the fills after the first `seen`
 * (fills in the order they happened). A rejected order's stored message names insufficient funds when
 * that was the reason; it is the only reason the executors act on.
 */
export function updateOf(order: StoredOrder, fills: readonly FillRow[], seen: number, now: number): OrderUpdate {
  const base = order.tradingPair.split('-')[0]!;
  const state = STATE[order.status];
  const newFills: OrderFill[] = fills.slice(seen).map((f) => ({ price: new Decimal(f.price), amount: new Decimal(f.amount), fee: quoteFee(f, base), isMaker: f.isMaker, timestamp: f.at.getTime() }));
  const update: OrderUpdate = {
    clientOrderId: order.clientOrderId,
    state,
    filled: new Decimal(order.filledAmount),
    averagePrice: order.averageFillPrice === null ? null : new Decimal(order.averageFillPrice),
    fees: fills.reduce((sum, f) => sum.plus(quoteFee(f, base)), new Decimal(0)),
    newFills,
    timestamp: now,
  };
  if (state === 'rejected' || (state === 'canceled' && order.errorMessage)) {
    update.reason = order.errorMessage ?? undefined;
    update.code = /insufficient/i.test(order.errorMessage ?? '') ? 'INSUFFICIENT_BALANCE' : state === 'rejected' ? 'UPSTREAM_REJECTED' : undefined;
  }
  return update;
}

/** A refusal that left no order behind (a guardrail, a validation, the kill switch): the order is rejected. */
export function refusalOf(clientOrderId: string, err: unknown, now: number): OrderUpdate {
  const e = toAppError(err);
  return {
    clientOrderId,
    state: 'rejected',
    filled: new Decimal(0),
    averagePrice: null,
    fees: new Decimal(0),
    newFills: [],
    reason: e.message,
    code: rejectionCode(e.code, e.details?.reason),
    timestamp: now,
  };
}

/** A fingerprint of what the executor was last told about an order, to skip unchanged ones. */
export function seenKey(u: OrderUpdate): string {
  return `${u.state}|${u.filled.toString()}|${u.fees.toString()}`;
}
