import { Decimal } from './decimal.js';

const ZERO = new Decimal(0);

/**
 * An exact sum of many small decimals (a backtest's traded volume, a balance's change over a year of
 * fills). Terms are added into a partial sum while it stays short, and the partial is folded into the
 * settled total only when it outgrows that form (a term of many digits does at once), so most additions
 * skip BigInt arithmetic. Exact: the order of the additions does not change the value.
 */
export class RunningSum {
  private settled = ZERO;
  private partial = ZERO;
  /** The settled total as a double (roughNumber), kept with it. */
  private settledNum = 0;
  /** The sum as a double within an ulp or so (the settled total's and the partial's, added). */
  number = 0;
  /** The last exact sum read, and the partial it was read with (a new partial is a new object). */
  private readValue = ZERO;
  private readWith: Decimal | null = null;

  add(x: Decimal): void {
    this.fold(this.partial.plus(x));
  }

  subtract(x: Decimal): void {
    this.fold(this.partial.minus(x));
  }

  /** The exact sum. Reading it changes nothing (not even `number`), so a read between two additions is harmless. */
  get value(): Decimal {
    if (this.partial.isZero()) return this.settled;
    if (this.readWith !== this.partial) {
      this.readValue = this.settled.plus(this.partial);
      this.readWith = this.partial;
    }
    return this.readValue;
  }

  private fold(p: Decimal): void {
    if (p.isShort()) {
      this.partial = p;
      this.number = this.settledNum + p.toNumber();
    } else this.settle(p);
  }

  private settle(p: Decimal): void {
    this.settled = this.settled.plus(p);
    this.partial = ZERO;
    this.settledNum = this.settled.roughNumber();
    this.number = this.settledNum;
  }
}
