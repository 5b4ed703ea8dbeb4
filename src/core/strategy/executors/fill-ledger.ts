import { Decimal } from '../../decimal.js';
import type { OrderFill, Side } from '../types.js';

const ZERO = new Decimal(0);

export interface FillLedgerState {
  position: string;
  entryPrice: string | null;
  realizedPnl: string;
  fees: string;
  volume: string;
  openedQuote: string;
}

/**
 * One executor's fills reduced to a netted position with an average entry price. A fill on the side
 * of the position (or from flat) moves the average; a fill against it realizes (price − entry) on the
 * closed part and, past flat, opens the other way at the fill price. Fees are kept apart so PnL can be
 * shown gross and net. The entry price is kept after the position goes flat so a closed executor still
 * reports where it entered.
 */
export class FillLedger {
  /** Signed base amount: positive long, negative short. */
  position = ZERO;
  entryPrice: Decimal | null = null;
  /** Gross of fees. */
  realizedPnl = ZERO;
  fees = ZERO;
  /** Quote traded, both directions. */
  volume = ZERO;
  /** Quote of the fills that opened or added to a position: what was put at risk. */
  openedQuote = ZERO;

  apply(side: Side, fill: Pick<OrderFill, 'price' | 'amount' | 'fee'>): void {
    const signed = side === 'buy' ? fill.amount : fill.amount.neg();
    this.fees = this.fees.plus(fill.fee);
    this.volume = this.volume.plus(fill.amount.times(fill.price));
    const pos = this.position;
    if (pos.isZero() || pos.isPositive() === signed.isPositive()) {
      const held = pos.abs();
      const prior = this.entryPrice && !held.isZero() ? held.times(this.entryPrice) : ZERO;
      this.entryPrice = prior.plus(fill.amount.times(fill.price)).div(held.plus(fill.amount));
      this.openedQuote = this.openedQuote.plus(fill.amount.times(fill.price));
      this.position = pos.plus(signed);
      return;
    }
    const closing = Decimal.min(fill.amount, pos.abs());
    const direction = pos.isPositive() ? 1 : -1;
    this.realizedPnl = this.realizedPnl.plus(fill.price.minus(this.entryPrice!).times(closing).times(direction));
    this.position = pos.plus(signed);
    const opening = fill.amount.minus(closing);
    if (opening.gt(0)) {
      this.entryPrice = fill.price;
      this.openedQuote = this.openedQuote.plus(opening.times(fill.price));
    }
  }

  /** Gross PnL of what is held, marked at `mark`. */
  unrealizedPnl(mark: Decimal | null): Decimal {
    if (this.position.isZero() || !mark || !this.entryPrice) return ZERO;
    return mark.minus(this.entryPrice).times(this.position);
  }

  toJSON(): FillLedgerState {
    return {
      position: this.position.toString(),
      entryPrice: this.entryPrice?.toString() ?? null,
      realizedPnl: this.realizedPnl.toString(),
      fees: this.fees.toString(),
      volume: this.volume.toString(),
      openedQuote: this.openedQuote.toString(),
    };
  }

  static from(s: FillLedgerState): FillLedger {
    const l = new FillLedger();
    l.position = new Decimal(s.position);
    l.entryPrice = s.entryPrice === null ? null : new Decimal(s.entryPrice);
    l.realizedPnl = new Decimal(s.realizedPnl);
    l.fees = new Decimal(s.fees);
    l.volume = new Decimal(s.volume);
    l.openedQuote = new Decimal(s.openedQuote);
    return l;
  }
}
