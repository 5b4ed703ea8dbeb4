import { Decimal } from '../decimal.js';
import type { BacktestFill } from './engine.js';

/** Columns of decimals: price, amount, fee. */
const COLUMNS = 3;

/**
 * The fills a backtest lists, kept in columns rather than as an object per fill: a year's run keeps tens
 * of thousands of them to the end, and every object kept alive is copied by each young-generation
 * collection it lives through. Prices, amounts and fees are doubles when the double stands for the
 * decimal exactly (Decimal.exactNumber: nearly all of them); the rest are kept as decimals beside.
 */
export class FillLog {
  private n = 0;
  private values = new Float64Array(COLUMNS * 256);
  private times = new Float64Array(256);
  /** Per fill: 1 buy, 2 maker. */
  private flags = new Uint8Array(256);
  private readonly executorIds: Array<string | null> = [];
  private readonly orderIds: string[] = [];
  /** The decimals no double stands for, by their cell (fill × COLUMNS + column). */
  private readonly exact = new Map<number, Decimal>();

  get length(): number {
    return this.n;
  }

  push(executorId: string | null, clientOrderId: string, buy: boolean, price: Decimal, amount: Decimal, fee: Decimal, isMaker: boolean, timestamp: number): void {
    const i = this.n;
    if (i === this.times.length) this.grow();
    this.put(i * COLUMNS, price);
    this.put(i * COLUMNS + 1, amount);
    this.put(i * COLUMNS + 2, fee);
    this.times[i] = timestamp;
    this.flags[i] = (buy ? 1 : 0) | (isMaker ? 2 : 0);
    this.executorIds.push(executorId);
    this.orderIds.push(clientOrderId);
    this.n = i + 1;
  }

  /** The fills as the result lists them, in the order they happened. */
  toJson(): BacktestFill[] {
    const out = new Array<BacktestFill>(this.n);
    for (let i = 0; i < this.n; i++) {
      const f = this.flags[i]!;
      out[i] = {
        executor_id: this.executorIds[i]!,
        client_order_id: this.orderIds[i]!,
        side: f & 1 ? 'buy' : 'sell',
        price: this.text(i * COLUMNS),
        amount: this.text(i * COLUMNS + 1),
        fee: this.text(i * COLUMNS + 2),
        is_maker: (f & 2) !== 0,
        timestamp: this.times[i]!,
      };
    }
    return out;
  }

  private put(cell: number, d: Decimal): void {
    const v = d.exactNumber();
    this.values[cell] = v;
    if (Number.isNaN(v)) this.exact.set(cell, d);
  }

  /** A cell's decimal as text: String() of its double writes the decimal's own text (see exactNumber). */
  private text(cell: number): string {
    const v = this.values[cell]!;
    return Number.isNaN(v) ? this.exact.get(cell)!.toString() : String(v);
  }

  private grow(): void {
    const cap = this.times.length * 2;
    const values = new Float64Array(COLUMNS * cap);
    values.set(this.values);
    this.values = values;
    const times = new Float64Array(cap);
    times.set(this.times);
    this.times = times;
    const flags = new Uint8Array(cap);
    flags.set(this.flags);
    this.flags = flags;
  }
}
