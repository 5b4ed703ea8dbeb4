import { Decimal } from '../../src/core/decimal.js';
import type { CandleRow, TradingRules } from '../../src/core/exchange/types.js';
import type { Executor, ExecutorContext, MarketView, OrderFill, OrderRequest, OrderState, OrderUpdate, Quote } from '../../src/core/strategy/types.js';

interface DeskOrder {
  req: OrderRequest;
  state: OrderState;
  filled: Decimal;
  notional: Decimal;
  fees: Decimal;
}

export interface DeskOptions {
  /** Fee rate on every fill, as a fraction of its quote (default 0). */
  feeRate?: string;
  /** Market orders fill in full at the touch as soon as they are submitted (default true). */
  autoFillMarket?: boolean;
  /** Cancels are confirmed as soon as they are asked for (default true). */
  autoCancel?: boolean;
  startAt?: number;
  /** The market's order rules as the view gives them (default none: null). */
  rules?: TradingRules;
}

/**
 * A small desk for executor tests: one market whose quote the test sets, a sink that records every
 * order and cancel, and hands for the test to fill (fully or partly, at a price, with a fee), reject or
 * cancel them. Updates reach the executor synchronously, inside submit or cancel when automatic, the way
 * an in-memory venue answers. Order ids are `o1`, `o2`… in submission order.
 */
export class ExecutorDesk {
  now: number;
  quoteNow: Quote | null = null;
  readonly submitted: OrderRequest[] = [];
  readonly cancels: string[] = [];
  readonly orders = new Map<string, DeskOrder>();
  executor: Executor | null = null;
  private seq = 0;
  private readonly feeRate: Decimal;
  private readonly autoFillMarket: boolean;
  private readonly autoCancel: boolean;
  private readonly tradingRules: TradingRules | null;

  constructor(opts: DeskOptions = {}) {
    this.now = opts.startAt ?? 0;
    this.feeRate = new Decimal(opts.feeRate ?? '0');
    this.autoFillMarket = opts.autoFillMarket ?? true;
    this.autoCancel = opts.autoCancel ?? true;
    this.tradingRules = opts.rules ?? null;
  }

  /** Starts the id sequence where a previous desk left it (for a restore on a fresh desk). */
  continueFrom(other: ExecutorDesk): this {
    this.seq = other.seq;
    this.now = other.now;
    this.quoteNow = other.quoteNow;
    for (const [id, o] of other.orders) this.orders.set(id, { ...o, req: { ...o.req } });
    return this;
  }

  get market(): MarketView {
    const now = this.now;
    const q = this.quoteNow;
    const rules = this.tradingRules;
    return { now, quote: () => q, candles: (): readonly CandleRow[] => [], rules: () => rules };
  }

  get ctx(): ExecutorContext {
    return {
      now: this.now,
      market: this.market,
      sink: {
        submit: (req) => this.onSubmit(req),
        cancel: (_c, _p, id) => this.onCancel(id),
      },
      newOrderId: () => `o${++this.seq}`,
    };
  }

  setPrice(price: string | number): this {
    const p = new Decimal(String(price));
    this.quoteNow = { bid: p, ask: p, mid: p };
    return this;
  }

  setQuote(bid: string, ask: string): this {
    const b = new Decimal(bid);
    const a = new Decimal(ask);
    this.quoteNow = { bid: b, ask: a, mid: b.plus(a).div(2) };
    return this;
  }

  /** Moves to `at` (ms) and price, then ticks the executor. */
  tick(at: number, price?: string | number): this {
    this.now = at;
    if (price !== undefined) this.setPrice(price);
    this.executor!.tick(this.ctx);
    return this;
  }

  /** Ticks through [time, price] points in order. */
  run(points: ReadonlyArray<readonly [number, string | number]>): this {
    for (const [t, p] of points) this.tick(t, p);
    return this;
  }

  order(id: string): DeskOrder {
    const o = this.orders.get(id);
    if (!o) throw new Error(`no order ${id}`);
    return o;
  }

  /** The last order submitted. */
  last(): OrderRequest {
    return this.submitted[this.submitted.length - 1]!;
  }

  /** Open (working) order ids as the desk sees them. */
  working(): string[] {
    return [...this.orders.entries()].filter(([, o]) => o.state === 'open' || o.state === 'partially_filled').map(([id]) => id);
  }

  /**
   * Fills `amount` (default: all that is left) of an order at `price` (default: its limit, or the
   * touch). `complete` ends the order as filled whatever the amount: a venue that quantised it down.
   */
  fill(id: string, opts: { amount?: string; price?: string; fee?: string; maker?: boolean; complete?: boolean } = {}): this {
    const o = this.order(id);
    const amount = opts.amount ? new Decimal(opts.amount) : o.req.amount.minus(o.filled);
    const price = opts.price ? new Decimal(opts.price) : (o.req.price ?? this.touch(o.req));
    const fee = opts.fee ? new Decimal(opts.fee) : amount.times(price).times(this.feeRate);
    o.filled = o.filled.plus(amount);
    o.notional = o.notional.plus(amount.times(price));
    o.fees = o.fees.plus(fee);
    o.state = opts.complete || o.filled.gte(o.req.amount) ? 'filled' : 'partially_filled';
    const fill: OrderFill = { price, amount, fee, isMaker: opts.maker ?? o.req.type !== 'market', timestamp: this.now };
    return this.send(id, [fill]);
  }

  reject(id: string, code = 'INSUFFICIENT_BALANCE'): this {
    this.order(id).state = 'rejected';
    return this.send(id, [], code);
  }

  /** The venue cancels an order (a confirmation of a cancel, or one of its own). */
  cancel(id: string): this {
    this.order(id).state = 'canceled';
    return this.send(id, []);
  }

  private touch(req: OrderRequest): Decimal {
    return req.side === 'buy' ? this.quoteNow!.ask : this.quoteNow!.bid;
  }

  private send(id: string, newFills: OrderFill[], code?: string): this {
    const o = this.order(id);
    const u: OrderUpdate = {
      clientOrderId: id,
      state: o.state,
      filled: o.filled,
      averagePrice: o.filled.isZero() ? null : o.notional.div(o.filled),
      fees: o.fees,
      newFills,
      timestamp: this.now,
      ...(code ? { code, reason: code } : {}),
    };
    this.executor!.onOrderUpdate(u, this.ctx);
    return this;
  }

  private onSubmit(req: OrderRequest): void {
    this.submitted.push(req);
    this.orders.set(req.clientOrderId, { req, state: 'open', filled: new Decimal(0), notional: new Decimal(0), fees: new Decimal(0) });
    if (req.type === 'market' && this.autoFillMarket) this.fill(req.clientOrderId);
  }

  private onCancel(id: string): void {
    this.cancels.push(id);
    const o = this.orders.get(id);
    if (this.autoCancel && o && (o.state === 'open' || o.state === 'partially_filled')) this.cancel(id);
  }
}
