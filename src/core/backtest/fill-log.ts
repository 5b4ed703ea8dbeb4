import { DecimalRows } from '../decimal-rows.js';
import type { Decimal } from '../decimal.js';
import type { BacktestFill } from './engine.js';

const PRICE = 0;
const AMOUNT = 1;
const FEE = 2;
const TIME = 3;
/** 1 buy, 2 maker. */
const FLAGS = 4;
const EXECUTOR = 5;
const ORDER = 6;

/**
 * The n of an id written `<letter><n>` (n without leading zeros, as a runtime mints them: e12, o345), so
 * it is kept as a number; NaN for any other id.
 */
function idNumber(id: string, letter: number): number {
  const len = id.length;
  if (len < 2 || len > 16 || id.charCodeAt(0) !== letter || (len > 2 && id.charCodeAt(1) === 48)) return Number.NaN;
  let n = 0;
  for (let i = 1; i < len; i++) {
    const d = id.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

const E = 101;
const O = 111;

/**
 * The fills a backtest lists, kept in rows of doubles rather than as an object per fill: a year's run
 * keeps tens of thousands of them to the end, and every object kept alive is copied by each
 * young-generation collection it lives through (see DecimalRows). The ids a runtime mints (e12, o345)
 * are kept as their numbers too; any other id is kept beside.
 */
export class FillLog {
  private readonly rows = new DecimalRows(7);
  /** The ids not of the minted form, by row (null for a fill with no executor). */
  private readonly executorIds = new Map<number, string | null>();
  private readonly orderIds = new Map<number, string>();

  get length(): number {
    return this.rows.length;
  }

  push(executorId: string | null, clientOrderId: string, buy: boolean, price: Decimal, amount: Decimal, fee: Decimal, isMaker: boolean, timestamp: number): void {
    const i = this.rows.addRow();
    this.rows.setDecimal(i, PRICE, price);
    this.rows.setDecimal(i, AMOUNT, amount);
    this.rows.setDecimal(i, FEE, fee);
    this.rows.setNumber(i, TIME, timestamp);
    this.rows.setNumber(i, FLAGS, (buy ? 1 : 0) | (isMaker ? 2 : 0));
    const e = executorId === null ? Number.NaN : idNumber(executorId, E);
    this.rows.setNumber(i, EXECUTOR, e);
    if (Number.isNaN(e)) this.executorIds.set(i, executorId);
    const o = idNumber(clientOrderId, O);
    this.rows.setNumber(i, ORDER, o);
    if (Number.isNaN(o)) this.orderIds.set(i, clientOrderId);
  }

  /** The fills as the result lists them, in the order they happened. */
  toJson(): BacktestFill[] {
    const r = this.rows;
    const out = new Array<BacktestFill>(r.length);
    for (let i = 0; i < r.length; i++) {
      const f = r.number(i, FLAGS);
      const e = r.number(i, EXECUTOR);
      const o = r.number(i, ORDER);
      out[i] = {
        executor_id: Number.isNaN(e) ? this.executorIds.get(i)! : `e${e}`,
        client_order_id: Number.isNaN(o) ? this.orderIds.get(i)! : `o${o}`,
        side: f & 1 ? 'buy' : 'sell',
        price: r.text(i, PRICE)!,
        amount: r.text(i, AMOUNT)!,
        fee: r.text(i, FEE)!,
        is_maker: (f & 2) !== 0,
        timestamp: r.number(i, TIME),
      };
    }
    return out;
  }
}
