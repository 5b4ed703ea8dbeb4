import { Decimal } from '../../decimal.js';
import type { ExecutorContext, IdleBand, MarketView, OrderFill, Quote } from '../types.js';
import { BaseExecutor } from './base.js';
import { frac } from './barriers.js';
import type { TwapExecutorConfig } from './configs.js';
import type { TrackedOrder } from './tracked-orders.js';

/** A venue may end a slice's order short on its own; the rest is re-placed this many times at most. */
const MAX_REPLACEMENTS = 3;

type SliceState = 'pending' | 'working' | 'done';

interface Slice {
  state: SliceState;
  /** Quote filled so far. */
  filledQuote: Decimal;
}

/**
 * total_amount_quote spread over total_duration in floor(total_duration / order_interval) equal slices,
 * slice i due order_interval × i seconds after creation (every slice that has come due is sent, so
 * sparse ticks never skip one). Taker mode sends each slice as a market order for quote / touch; maker
 * mode rests it limit_order_buffer behind the touch (bid × (1 − b) for a buy, ask × (1 + b) for a sell)
 * and, when still working order_resubmission_time seconds later, cancels it and re-places what is left
 * of the slice's quote at the new price. It completes when every slice has filled. A rejection ends it
 * (INSUFFICIENT_BALANCE when the venue says so, else FAILED) keeping what it bought: a TWAP accumulates,
 * and selling back on a refusal is not what it was asked for.
 */
export class TwapExecutor extends BaseExecutor<TwapExecutorConfig> {
  private slices: Slice[];
  private replacements = 0;

  constructor(config: TwapExecutorConfig, id: string, createdAt: number) {
    super(config, id, createdAt);
    const n = Math.floor(config.total_duration / config.order_interval);
    this.slices = Array.from({ length: n }, () => ({ state: 'pending' as SliceState, filledQuote: new Decimal(0) }));
  }

  private get sliceQuote(): Decimal {
    return new Decimal(this.config.total_amount_quote).div(this.slices.length);
  }

  private dueAt(i: number): number {
    return this.createdAt + i * this.config.order_interval * 1000;
  }

  protected start(): boolean {
    return true;
  }

  protected step(ctx: ExecutorContext): void {
    if (this.config.mode === 'maker') {
      const stale = this.config.order_resubmission_time * 1000;
      for (const o of this.orders.working('slice')) if (!o.cancelRequested && ctx.now - o.placedAt >= stale) this.cancel(ctx, o);
    }
    const q = this.quote(ctx.market);
    if (!q) return;
    this.slices.forEach((s, i) => {
      if (this.status !== 'active') return;
      if (s.state === 'pending' && ctx.now >= this.dueAt(i)) this.placeSlice(ctx, i, q);
      else if (s.state === 'working' && this.orders.working('slice').every((o) => o.level !== i)) this.placeSlice(ctx, i, q);
    });
  }

  private placeSlice(ctx: ExecutorContext, i: number, q: Quote): void {
    const s = this.slices[i]!;
    const quote = this.sliceQuote.minus(s.filledQuote);
    s.state = 'working';
    const buy = this.config.side === 'buy';
    if (this.config.mode === 'taker') {
      this.place(ctx, { role: 'slice', level: i, side: this.config.side, type: 'market', amount: quote.div(buy ? q.ask : q.bid) });
      return;
    }
    const b = frac(this.config.limit_order_buffer);
    const price = buy ? q.bid.times(Decimal.sub(1, b)) : q.ask.times(Decimal.add(1, b));
    this.place(ctx, { role: 'slice', level: i, side: this.config.side, type: 'limit', amount: quote.div(price), price });
  }

  protected onOrder(order: TrackedOrder, fills: OrderFill[], ctx: ExecutorContext): void {
    const s = this.slices[order.level]!;
    for (const f of fills) s.filledQuote = s.filledQuote.plus(f.amount.times(f.price));
    if (order.state === 'open' || order.state === 'partially_filled') return;
    if (order.state === 'filled') {
      s.state = 'done';
      if (this.slices.every((x) => x.state === 'done')) this.beginClose(ctx, 'COMPLETED', false);
      return;
    }
    if (order.state === 'rejected') {
      return this.beginClose(ctx, order.code === 'INSUFFICIENT_BALANCE' ? 'INSUFFICIENT_BALANCE' : 'FAILED', false);
    }
    if (!order.cancelRequested && ++this.replacements > MAX_REPLACEMENTS) return this.beginClose(ctx, 'FAILED', false);
    const q = this.quote(ctx.market);
    if (q) this.placeSlice(ctx, order.level, q);
  }

  /**
   * A TWAP acts on time, not price: between ticks nothing happens before the next slice is due or (maker)
   * a resting slice goes stale, unless an update arrives. A slice left without an order (its re-place
   * waited for a quote) needs the next tick.
   */
  idleBand(): IdleBand | null {
    if (this.status !== 'active') return null;
    const working = this.orders.working('slice');
    let until = Infinity;
    for (let i = 0; i < this.slices.length; i++) {
      const s = this.slices[i]!;
      if (s.state === 'working' && working.every((o) => o.level !== i)) return null;
      if (s.state === 'pending') until = Math.min(until, this.dueAt(i));
    }
    if (this.config.mode === 'maker') {
      const stale = this.config.order_resubmission_time * 1000;
      for (const o of working) if (!o.cancelRequested) until = Math.min(until, o.placedAt + stale);
    }
    return { low: -Infinity, high: Infinity, until };
  }

  protected riskQuote(): Decimal {
    return this.ledger.openedQuote;
  }

  protected custom(_market: MarketView): Record<string, unknown> {
    const next = this.slices.findIndex((s) => s.state === 'pending');
    return {
      slices: this.slices.length,
      slices_done: this.slices.filter((s) => s.state === 'done').length,
      slice_quote: this.sliceQuote.toString(),
      next_slice_at: next < 0 ? null : this.dueAt(next),
    };
  }

  protected ownState(): Record<string, unknown> {
    return { slices: this.slices.map((s) => ({ state: s.state, filledQuote: s.filledQuote.toString() })), replacements: this.replacements };
  }

  protected loadOwnState(s: Record<string, unknown>): void {
    this.slices = (s.slices as Array<{ state: SliceState; filledQuote: string }>).map((v) => ({ state: v.state, filledQuote: new Decimal(v.filledQuote) }));
    this.replacements = s.replacements as number;
  }
}
