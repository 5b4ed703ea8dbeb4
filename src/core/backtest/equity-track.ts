/**
 * A backtest's PnL and net position at each candle close, kept as the states between fills. What the
 * quote balance moved by and what is held change only with a fill; the PnL at a close is the state of
 * that candle marked at its close price. So a run keeps a few numbers per fill, not four numbers per
 * candle: a series per candle is fresh memory of the run's length, and first touching it (page faults)
 * cost about as much as a silent strategy's whole walk.
 *
 * Spot: q (quote moved) + b (base moved) × price. Perpetual: q + the long and short sides' unrealised
 * PnL at the price, each (price − entry) × amount, and the position is their net. The venue values
 * itself with the same functions (spotPnl, sideValue), so a series read from here is the one it would
 * have sampled.
 */
export class EquityTrack {
  /** The first candle (index in the run) of each state, ascending. */
  private readonly from: number[] = [];
  private readonly q: number[] = [];
  /** Spot: base moved; perpetual: net position. */
  private readonly b: number[] = [];
  /** Perpetual: long amount, long entry, short amount, short entry of each state. */
  private readonly sides: number[] = [];

  constructor(readonly perpetual: boolean) {}

  /** The state from candle `j` on; one already recorded for `j` is replaced. */
  markSpot(j: number, q: number, b: number): void {
    const k = this.slot(j);
    this.q[k] = q;
    this.b[k] = b;
  }

  markPerp(j: number, q: number, longAmount: number, longEntry: number, shortAmount: number, shortEntry: number): void {
    const k = this.slot(j);
    this.q[k] = q;
    this.b[k] = longAmount + shortAmount;
    this.sides[4 * k] = longAmount;
    this.sides[4 * k + 1] = longEntry;
    this.sides[4 * k + 2] = shortAmount;
    this.sides[4 * k + 3] = shortEntry;
  }

  /** pnl[j] and position[j] for j < n, candle j closing at close[first + j]. */
  fill(close: ArrayLike<number>, first: number, n: number, pnl: Float64Array, position: Float64Array): void {
    for (let k = 0; k < this.from.length; k++) {
      const end = k + 1 < this.from.length ? Math.min(n, this.from[k + 1]!) : n;
      const q = this.q[k]!;
      const b = this.b[k]!;
      if (this.perpetual) {
        const s = 4 * k;
        const la = this.sides[s]!;
        const le = this.sides[s + 1]!;
        const sa = this.sides[s + 2]!;
        const se = this.sides[s + 3]!;
        for (let j = this.from[k]!; j < end; j++) {
          const price = close[first + j]!;
          pnl[j] = q + (sideValue(la, le, price) + sideValue(sa, se, price));
          position[j] = b;
        }
      } else {
        for (let j = this.from[k]!; j < end; j++) {
          pnl[j] = spotPnl(q, b, close[first + j]!);
          position[j] = b;
        }
      }
    }
  }

  /** pnl and position at candle `j` alone (what fill writes there), for a series thinned to a few points. */
  pointAt(close: ArrayLike<number>, first: number, j: number): { pnl: number; position: number } {
    // The last state starting at or before j (states are in ascending order of their first candle).
    let lo = 0;
    let hi = this.from.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.from[mid]! <= j) lo = mid;
      else hi = mid - 1;
    }
    const k = lo;
    const price = close[first + j]!;
    const q = this.q[k]!;
    if (!this.perpetual) return { pnl: spotPnl(q, this.b[k]!, price), position: this.b[k]! };
    const s = 4 * k;
    return { pnl: q + (sideValue(this.sides[s]!, this.sides[s + 1]!, price) + sideValue(this.sides[s + 2]!, this.sides[s + 3]!, price)), position: this.b[k]! };
  }

  private slot(j: number): number {
    const last = this.from.length - 1;
    if (last >= 0 && this.from[last] === j) return last;
    this.from.push(j);
    return last + 1;
  }
}

/** Spot PnL marked at `price`: quote moved plus base moved at the price. */
export function spotPnl(quoteMoved: number, baseMoved: number, price: number): number {
  return quoteMoved + baseMoved * price;
}

/** A perpetual side's unrealised PnL at `mark` (amount negative for a short). */
export function sideValue(amount: number, entry: number, mark: number): number {
  return amount === 0 ? 0 : (mark - entry) * amount;
}
