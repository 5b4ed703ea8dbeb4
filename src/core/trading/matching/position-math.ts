import { Decimal } from '../../decimal.js';
import { q18 } from './fees.js';

export interface PositionState {
  /** Signed: long > 0, short < 0. */
  amount: Decimal;
  entryPrice: Decimal;
  /** Initial margin held, in quote. */
  margin: Decimal;
}

export interface PositionChange {
  next: PositionState;
  realizedPnl: Decimal;
}

const ZERO = new Decimal(0);

/**
 * One-way position accounting for a signed fill `qty` at `price` with `leverage`: adding to a position
 * averages the entry and holds qty·price/leverage more margin; reducing realises (price − entry)·size on
 * the closed part and releases its share of margin; crossing zero closes, then opens the rest.
 */
export function applyFill(pos: PositionState, qty: Decimal, price: Decimal, leverage: number): PositionChange {
  const lev = new Decimal(leverage);
  if (pos.amount.isZero() || pos.amount.isPositive() === qty.isPositive()) {
    const size = pos.amount.abs().plus(qty.abs());
    const entry = q18(pos.amount.abs().times(pos.entryPrice).plus(qty.abs().times(price)).div(size));
    return { next: { amount: pos.amount.plus(qty), entryPrice: entry, margin: q18(pos.margin.plus(qty.abs().times(price).div(lev))) }, realizedPnl: ZERO };
  }
  const closing = Decimal.min(qty.abs(), pos.amount.abs());
  const direction = pos.amount.isPositive() ? 1 : -1;
  const realized = q18(price.minus(pos.entryPrice).times(closing).times(direction));
  const released = pos.amount.abs().eq(closing) ? pos.margin : q18(pos.margin.times(closing).div(pos.amount.abs()));
  const rest = qty.abs().minus(closing);
  if (rest.isZero()) {
    const amount = pos.amount.plus(qty);
    return { next: { amount, entryPrice: amount.isZero() ? ZERO : pos.entryPrice, margin: pos.margin.minus(released) }, realizedPnl: realized };
  }
  const opened = qty.isPositive() ? rest : rest.neg();
  return { next: { amount: opened, entryPrice: price, margin: q18(rest.times(price).div(lev)) }, realizedPnl: realized };
}

export function unrealizedPnl(pos: PositionState, mark: Decimal): Decimal {
  return q18(mark.minus(pos.entryPrice).times(pos.amount));
}
