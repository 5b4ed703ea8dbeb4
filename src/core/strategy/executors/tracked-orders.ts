import { cmp, Decimal } from '../../decimal.js';
import { IdBook } from '../id-book.js';
import type { OrderFill, OrderRequest, OrderState, OrderUpdate, Side, StrategyOrderType } from '../types.js';

const FINAL: ReadonlySet<OrderState> = new Set(['filled', 'canceled', 'rejected']);
/** No new fills: one shared, frozen list (most updates bring none; callers only read it). */
const NO_FILLS = Object.freeze([]) as unknown as OrderFill[];
/** Decimals are immutable: every new order starts from the same zero. */
const ZERO = new Decimal(0);

/** One order an executor placed, as far as its updates told it. `role` says what the order is for. */
export interface TrackedOrder {
  id: string;
  role: string;
  /** Grid level or DCA level or TWAP slice the order belongs to; -1 when none. */
  level: number;
  side: Side;
  type: StrategyOrderType;
  amount: Decimal;
  price: Decimal | null;
  state: OrderState;
  filled: Decimal;
  averagePrice: Decimal | null;
  fees: Decimal;
  placedAt: number;
  /** A cancel was asked for and not yet confirmed. */
  cancelRequested: boolean;
  code: string | null;
}

export interface TrackedOrderState {
  id: string;
  role: string;
  level: number;
  side: Side;
  type: StrategyOrderType;
  amount: string;
  price: string | null;
  state: OrderState;
  filled: string;
  averagePrice: string | null;
  fees: string;
  placedAt: number;
  cancelRequested: boolean;
  code: string | null;
}

export const isFinal = (o: TrackedOrder): boolean => FINAL.has(o.state);

/**
 * The working orders of one executor, in placing order. An order leaves the book with the update that
 * makes it final, so the book stays as small as what is working however long the executor runs. An
 * update is applied once: one that reports no more filled than already known brings no new fills (a
 * repeat after a restart or a re-sent message), and one for an order no longer here is ignored, so the
 * ledger never counts a fill twice.
 */
export class TrackedOrders {
  readonly #orders = new IdBook<TrackedOrder>();

  add(req: OrderRequest, role: string, level: number, now: number): TrackedOrder {
    const o: TrackedOrder = {
      id: req.clientOrderId,
      role,
      level,
      side: req.side,
      type: req.type,
      amount: req.amount,
      price: req.price ?? null,
      state: 'open',
      filled: ZERO,
      averagePrice: null,
      fees: ZERO,
      placedAt: now,
      cancelRequested: false,
      code: null,
    };
    this.#orders.set(o.id, o);
    return o;
  }

  get(id: string): TrackedOrder | undefined {
    return this.#orders.get(id);
  }

  /** Applies an update: the order as it now stands and the fills not counted yet; null when not ours. */
  apply(u: OrderUpdate): { order: TrackedOrder; fills: OrderFill[] } | null {
    const o = this.#orders.get(u.clientOrderId);
    if (!o) return null;
    const c = cmp(u.filled, o.filled);
    const fills = c > 0 ? u.newFills : NO_FILLS;
    if (c >= 0) {
      o.filled = u.filled;
      o.averagePrice = u.averagePrice;
      o.fees = u.fees;
    }
    o.state = u.state;
    if (u.code) o.code = u.code;
    if (isFinal(o)) this.#orders.delete(o.id);
    return { order: o, fills };
  }

  /** How many orders work. */
  get size(): number {
    return this.#orders.size;
  }

  /** Whether an order of `role` works (no list built: asked on every band and tick). */
  has(role: string): boolean {
    for (let i = 0; i < this.#orders.size; i++) if (this.#orders.at(i).role === role) return true;
    return false;
  }

  /**
   * The working order in place `i` (0 ≤ i < size), for a walk that copies nothing. Cancelling while
   * walking is safe: an order leaves the book only with an update, and updates reach an executor through
   * its runtime's queue, never from within the cancel.
   */
  at(i: number): TrackedOrder {
    return this.#orders.at(i);
  }

  /** The working orders, in placing order (a copy: cancelling while walking it is safe). */
  all(): TrackedOrder[] {
    return this.#orders.values();
  }

  working(role?: string): TrackedOrder[] {
    return role === undefined ? this.all() : this.all().filter((o) => o.role === role);
  }

  toJSON(): TrackedOrderState[] {
    return this.all().map((o) => ({
      ...o,
      amount: o.amount.toString(),
      price: o.price?.toString() ?? null,
      filled: o.filled.toString(),
      averagePrice: o.averagePrice?.toString() ?? null,
      fees: o.fees.toString(),
    }));
  }

  static from(list: TrackedOrderState[]): TrackedOrders {
    const t = new TrackedOrders();
    for (const s of list) {
      t.#orders.set(s.id, {
        ...s,
        amount: new Decimal(s.amount),
        price: s.price === null ? null : new Decimal(s.price),
        filled: new Decimal(s.filled),
        averagePrice: s.averagePrice === null ? null : new Decimal(s.averagePrice),
        fees: new Decimal(s.fees),
      });
    }
    return t;
  }
}
