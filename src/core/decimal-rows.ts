import { compactDecimal, compactText, Decimal } from './decimal.js';

/** Rows per chunk: a chunk of a few rows' doubles is small enough for the allocator to hand back recycled memory. */
const CHUNK_ROWS = 1024;

const ZERO = new Decimal(0);

/**
 * Rows of decimals (and plain numbers) kept for long by a one-shot run (a backtest's fills and final
 * reports): each decimal is the double that stands for it exactly (Decimal.exactNumber: nearly all of
 * them), the rest are kept as themselves beside. Doubles in typed arrays are nothing for a garbage
 * collector to copy, and the fixed-size chunks are never copied to grow; fresh memory is costly to touch.
 */
export class DecimalRows {
  private readonly chunks: Float64Array[] = [];
  /** The decimals no double stands for, by cell (row × width + column); null for an absent one. */
  private readonly exact = new Map<number, Decimal | null>();
  private n = 0;

  constructor(private readonly width: number) {}

  get length(): number {
    return this.n;
  }

  /** A new row, its cells unset; returns its index. */
  addRow(): number {
    const row = this.n;
    if (row % CHUNK_ROWS === 0) this.chunks.push(new Float64Array(CHUNK_ROWS * this.width));
    this.n = row + 1;
    return row;
  }

  setNumber(row: number, col: number, v: number): void {
    this.chunks[(row / CHUNK_ROWS) | 0]![(row % CHUNK_ROWS) * this.width + col] = v;
  }

  number(row: number, col: number): number {
    return this.chunks[(row / CHUNK_ROWS) | 0]![(row % CHUNK_ROWS) * this.width + col]!;
  }

  setDecimal(row: number, col: number, d: Decimal | null): void {
    const v = compactDecimal(d);
    if (typeof v === 'number') this.setNumber(row, col, v);
    else {
      this.setNumber(row, col, Number.NaN);
      this.exact.set(row * this.width + col, v);
    }
  }

  /** The decimal in a cell: a new one from its double (the one zero for +0), or the one kept beside. */
  decimal(row: number, col: number): Decimal | null {
    const v = this.number(row, col);
    if (Number.isNaN(v)) return this.exact.get(row * this.width + col)!;
    return v === 0 ? ZERO : new Decimal(v);
  }

  /** A decimal cell as text (see compactText). */
  text(row: number, col: number): string | null {
    const v = this.number(row, col);
    return compactText(Number.isNaN(v) ? (this.exact.get(row * this.width + col) ?? null) : v);
  }
}
