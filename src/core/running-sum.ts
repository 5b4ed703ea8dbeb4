import { Decimal } from './decimal.js';

const ZERO = new Decimal(0);

/**
 * An exact sum of many small decimals (a backtest's traded volume over a year of fills). Terms are added
 * into a partial sum while it stays short, and the partial is folded into the settled total only when it
 * outgrows that form, so most additions skip BigInt arithmetic. Exact: the order of the additions does
 * not change the value.
 */
export class RunningSum {
  private settled = ZERO;
  private partial = ZERO;

  add(x: Decimal): void {
    const p = this.partial.plus(x);
    if (p.isShort()) this.partial = p;
    else {
      this.settled = this.settled.plus(p);
      this.partial = ZERO;
    }
  }

  get value(): Decimal {
    this.settled = this.settled.plus(this.partial);
    this.partial = ZERO;
    return this.settled;
  }
}
