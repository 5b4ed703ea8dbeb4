import { Decimal } from '../decimal.js';
import { applyFill, type PositionState } from '../trading/matching/position-math.js';
import type { OrderRequest } from '../strategy/types.js';
import { type EquityTrack, sideValue } from './equity-track.js';

/**
 * A backtest's perpetual positions on its one pair, in hedge mode: a long and a short side kept apart,
 * so a strategy that holds longs and shorts at once (a directional controller between signals) closes
 * each against its own side, as its executors think of them. An order opens (`positionAction` open or
 * absent) on the side it trades toward, buy → long and sell → short, and a close reduces the other:
 * sell → long, buy → short, never past its size. Each side is one-way position accounting through the
 * paper engine's own `applyFill` (average entry, margin held at notional / leverage, PnL realised on
 * the closed part). The quote balance (collateral) lives in the venue; this keeps what is held.
 *
 * Not modelled: funding payments and liquidation (a losing position can take the balance below zero;
 * the equity curve shows it).
 */

export type PerpSide = 'long' | 'short';

interface SideState extends PositionState {
  leverage: number;
  /** amount and entryPrice as numbers, kept with each fill, for the per-candle series. */
  amountNum: number;
  entryNum: number;
}

const ZERO = new Decimal(0);
const flat = (): SideState => ({ amount: ZERO, entryPrice: ZERO, margin: ZERO, leverage: 1, amountNum: 0, entryNum: 0 });

export class PerpLedger {
  readonly long: SideState = flat();
  readonly short: SideState = flat();
  realizedPnl = ZERO;

  /** The side an order trades on. */
  sideOf(req: Pick<OrderRequest, 'side' | 'positionAction'>): PerpSide {
    const closing = req.positionAction === 'close';
    return (req.side === 'buy') !== closing ? 'long' : 'short';
  }

  /** Why a close cannot be placed (nothing or too little held on its side), or null. */
  closeRefusal(req: Pick<OrderRequest, 'side' | 'positionAction'>, amount: Decimal): string | null {
    if (req.positionAction !== 'close') return null;
    const side = this.sideOf(req);
    const held = this[side].amount.abs();
    return amount.gt(held) ? `A close ${req.side} of ${amount} exceeds the ${side} position (${held}).` : null;
  }

  /** The leverage an open on this side trades at: the side's own while it is open, else the order's. */
  leverageFor(req: Pick<OrderRequest, 'side' | 'positionAction' | 'leverage'>): number {
    const s = this[this.sideOf(req)];
    return s.amount.isZero() ? (req.leverage ?? 1) : s.leverage;
  }

  /** Books one fill and returns the PnL it realised (zero for an open). */
  fill(req: Pick<OrderRequest, 'side' | 'positionAction' | 'leverage'>, amount: Decimal, price: Decimal): Decimal {
    const side = this.sideOf(req);
    const s = this[side];
    const leverage = this.leverageFor(req);
    const change = applyFill(s, req.side === 'buy' ? amount : amount.neg(), price, leverage);
    s.amount = change.next.amount;
    s.entryPrice = change.next.entryPrice;
    s.margin = change.next.margin;
    s.leverage = leverage;
    s.amountNum = s.amount.toNumber();
    s.entryNum = s.entryPrice.toNumber();
    this.realizedPnl = this.realizedPnl.plus(change.realizedPnl);
    return change.realizedPnl;
  }

  /** Margin held by both sides. */
  margin(): Decimal {
    return this.long.margin.plus(this.short.margin);
  }

  /** Unrealised PnL of both sides at `mark`. */
  unrealized(mark: Decimal): Decimal {
    return side(this.long, mark).plus(side(this.short, mark));
  }

  /** The same as a number, for the per-candle series. */
  unrealizedNum(mark: number): number {
    return sideNum(this.long, mark) + sideNum(this.short, mark);
  }

  /** Records what is held now in `track`, as the state from candle `j` on (q: the quote balance moved). */
  markInto(track: EquityTrack, j: number, q: number): void {
    track.markPerp(j, q, this.long.amountNum, this.long.entryNum, this.short.amountNum, this.short.entryNum);
  }

  /** Net base held (long minus short), as a number. */
  netNum(): number {
    return this.long.amountNum + this.short.amountNum;
  }
}

function side(s: SideState, mark: Decimal): Decimal {
  return s.amount.isZero() ? ZERO : mark.minus(s.entryPrice).times(s.amount);
}

function sideNum(s: SideState, mark: number): number {
  return sideValue(s.amountNum, s.entryNum, mark);
}
