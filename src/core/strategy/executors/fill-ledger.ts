import { cmp, Decimal } from '../../decimal.js';
import type { OrderFill, Side } from '../types.js';

const ZERO = new Decimal(0);

export interface FillLedgerState {
  position: string;
  cost: string;
  lastEntry: string | null;
  realizedPnl: string;
  fees: string;
  volume: string;
  openedQuote: string;
}

/**
 * One executor's fills reduced to a netted position and its cost (the quote paid for what is held, or
 * received for a short). A fill on the side of the position (or from flat) adds to the cost; a fill
 * against it realizes the closed part against its share of the cost and, past flat, opens the other
 * way at the fill price. Keeping the cost rather than an average price means a position that goes flat
 * realizes exactly what was received minus what was paid, with no rounding left over from averaging.
 * Fees are kept apart so PnL can be shown gross and net. The entry price is kept after the position
 * goes flat so a closed executor still reports where it entered.
 */
export class FillLedger {
  /** Signed base amount: positive long, negative short. */
  position = ZERO;
  /** Quote paid for (a short: received for) what is held. */
  cost = ZERO;
  private lastEntry: Decimal | null = null;
  /** Gross of fees. */
  realizedPnl = ZERO;
  fees = ZERO;
  /** Quote traded, both directions. */
  volume = ZERO;
  /** Quote of the fills that opened or added to a position: what was put at risk. */
  openedQuote = ZERO;

  /** The entry as last computed; undefined after a fill changed it (a division is worth keeping). */
  private entry: Decimal | null | undefined = undefined;

  /** Average entry of what is held; of what was last held once flat; null before any fill. The same decimal until the next fill. */
  get entryPrice(): Decimal | null {
    if (this.entry === undefined) this.entry = this.position.isZero() ? this.lastEntry : this.cost.div(this.position.abs());
    return this.entry;
  }

  apply(side: Side, fill: Pick<OrderFill, 'price' | 'amount' | 'fee' | 'notional'>): void {
    // The entry as computed for the position before this fill (cost / |position|), if it was.
    const entryBefore = this.entry;
    this.entry = undefined;
    const signed = side === 'buy' ? fill.amount : fill.amount.neg();
    const quote = fill.notional ?? fill.amount.times(fill.price);
    this.fees = this.fees.plus(fill.fee);
    this.volume = this.volume.plus(quote);
    const pos = this.position;
    if (pos.isZero() || pos.isPositive() === signed.isPositive()) {
      this.cost = this.cost.plus(quote);
      this.openedQuote = this.openedQuote.plus(quote);
      this.position = pos.plus(signed);
      return;
    }
    const held = pos.abs();
    // The part of the fill that closes: all of it, or what is held (Decimal.min, without its copies).
    const c = cmp(fill.amount, held);
    const closing = c <= 0 ? fill.amount : held;
    const closesAll = c >= 0;
    // The whole fill closes (the usual case): its quote is what the closed part was worth.
    const fillCloses = c <= 0;
    const removed = closesAll ? this.cost : this.cost.times(closing).div(held);
    // cost / held is the entry of what was held: the same division as entryPrice, kept if it was made.
    if (closesAll) this.lastEntry = entryBefore instanceof Decimal ? entryBefore : this.cost.div(held);
    const gross = (fillCloses ? quote : closing.times(fill.price)).minus(removed);
    // × 1 or × −1: the sign only (gross is already rounded to the precision).
    this.realizedPnl = this.realizedPnl.plus(pos.isPositive() ? gross : gross.neg());
    this.cost = this.cost.minus(removed);
    this.position = pos.plus(signed);
    if (fillCloses) return;
    const opening = fill.amount.minus(closing);
    if (opening.gt(0)) {
      this.cost = opening.times(fill.price);
      this.openedQuote = this.openedQuote.plus(this.cost);
    }
  }

  /** Gross PnL of what is held, marked at `mark`. */
  unrealizedPnl(mark: Decimal | null): Decimal {
    if (this.position.isZero() || !mark) return ZERO;
    const direction = this.position.isPositive() ? 1 : -1;
    return mark.times(this.position).minus(this.cost.times(direction));
  }

  toJSON(): FillLedgerState {
    return {
      position: this.position.toString(),
      cost: this.cost.toString(),
      lastEntry: this.lastEntry?.toString() ?? null,
      realizedPnl: this.realizedPnl.toString(),
      fees: this.fees.toString(),
      volume: this.volume.toString(),
      openedQuote: this.openedQuote.toString(),
    };
  }

  static from(s: FillLedgerState): FillLedger {
    const l = new FillLedger();
    l.position = new Decimal(s.position);
    l.cost = new Decimal(s.cost);
    l.lastEntry = s.lastEntry === null ? null : new Decimal(s.lastEntry);
    l.realizedPnl = new Decimal(s.realizedPnl);
    l.fees = new Decimal(s.fees);
    l.volume = new Decimal(s.volume);
    l.openedQuote = new Decimal(s.openedQuote);
    return l;
  }
}
