import { Decimal } from '../../decimal.js';
import { edgeAbove, edgeBelow, highEdge, lowEdge } from '../price-edge.js';
import type { ExecutorContext, IdleBand, MarketView, OrderFill, Quote } from '../types.js';
import { BaseExecutor } from './base.js';
import { EntryBarriers, type BarrierLevels, barrierBand, barrierPrices, checkBarriers, frac, loadTrailing, markPrice, type TrailingTrigger } from './barriers.js';
import type { DcaExecutorConfig } from './configs.js';
import type { TrackedOrder } from './tracked-orders.js';

/**
 * Staged entries: level i buys (or sells) amounts_quote[i] / prices[i] base at prices[i]. In maker mode
 * each level rests as a limit at its price, placed once the mid is within activation_bounds[0] of it
 * (at once without bounds; the second bound of the original gates limit closes, and this executor
 * closes at market); in taker mode a level is a market order sent when the touch reaches its price
 * (ask ≤ price for a buy, bid ≥ price for a sell). Stop loss, trailing stop and take profit apply to
 * the average entry of what has filled, checked each tick before new levels are placed, in that order
 * (the first that fires wins), then the time limit (creation + time_limit: EXPIRED with nothing filled,
 * TIME_LIMIT otherwise). A rejected level ends the executor while nothing has filled (as
 * INSUFFICIENT_BALANCE when the venue says so); after a fill it only drops that level.
 */
export class DcaExecutor extends BaseExecutor<DcaExecutorConfig> {
  private trailing: TrailingTrigger | null = null;
  /** The mid at the last tick, as a number: which side of a bounded maker level the price is on (for idleBand only). */
  private lastMid: number | null = null;
  /** Per level: its order was sent (a dropped level counts as sent: it is never retried). */
  private sent: boolean[];

  constructor(config: DcaExecutorConfig, id: string, createdAt: number) {
    super(config, id, createdAt);
    this.sent = config.prices.map(() => false);
    this.barriers = new EntryBarriers({ stopLoss: config.stop_loss, takeProfit: config.take_profit, trailing: config.trailing_stop }, config.side);
  }

  /** The barrier prices of the current entry (recomputed only when a fill moves it). */
  private readonly barriers: EntryBarriers;

  private levels(): BarrierLevels | null {
    return this.barriers.at(this.ledger.entryPrice);
  }

  private get deadline(): number {
    return this.config.time_limit === undefined ? Infinity : this.createdAt + this.config.time_limit * 1000;
  }

  private level(i: number): { price: Decimal; amount: Decimal } {
    const price = new Decimal(this.config.prices[i]!);
    return { price, amount: new Decimal(this.config.amounts_quote[i]!).div(price) };
  }

  protected start(ctx: ExecutorContext): boolean {
    if (ctx.now < this.deadline) return true;
    this.terminate(ctx.now, 'EXPIRED');
    return false;
  }

  protected step(ctx: ExecutorContext): void {
    const q = this.quote(ctx.market);
    const held = !this.ledger.position.isZero();
    if (held && q) {
      const r = checkBarriers(this.levels()!, markPrice(q, this.config.side), this.trailing, true);
      this.trailing = r.trailing;
      if (r.hit) return this.beginClose(ctx, r.hit, true);
    }
    if (ctx.now >= this.deadline) return this.beginClose(ctx, held ? 'TIME_LIMIT' : 'EXPIRED', true);
    if (!q) return;
    this.lastMid = q.mid.toNumber();
    this.placeLevels(ctx, q);
  }

  private placeLevels(ctx: ExecutorContext, q: Quote): void {
    const bound = this.config.activation_bounds?.[0];
    for (let i = 0; i < this.sent.length && this.status === 'active'; i++) {
      if (this.sent[i]) continue;
      const { price, amount } = this.level(i);
      if (this.config.mode === 'taker') {
        const reached = this.config.side === 'buy' ? q.ask.lte(price) : q.bid.gte(price);
        if (!reached) continue;
        this.sent[i] = true;
        this.place(ctx, { role: 'level', level: i, side: this.config.side, type: 'market', amount });
      } else {
        if (bound !== undefined && q.mid.minus(price).abs().div(price).gt(frac(bound))) continue;
        this.sent[i] = true;
        this.place(ctx, { role: 'level', level: i, side: this.config.side, type: 'limit', amount, price });
      }
    }
  }

  /**
   * Quiet until the deadline while the price stays off the barriers of what is held (as a position's)
   * and off every unsent level: a taker level's price, or the edge of a bounded maker level's activation
   * range on the side the price is on. An unbounded maker level is placed at the next tick with a quote.
   */
  idleBand(): IdleBand | null {
    if (this.status !== 'active') return null;
    const band: IdleBand = { low: -Infinity, high: Infinity, until: this.deadline };
    if (!this.ledger.position.isZero()) barrierBand(this.levels()!, this.trailing, true, band);
    const bound = this.config.activation_bounds?.[0];
    for (let i = 0; i < this.sent.length; i++) {
      if (this.sent[i]) continue;
      const price = this.level(i).price;
      if (this.config.mode === 'taker') {
        if (this.config.side === 'buy') band.low = Math.max(band.low, edgeBelow(price, false));
        else band.high = Math.min(band.high, edgeAbove(price, false));
        continue;
      }
      if (bound === undefined || this.lastMid === null) return null;
      const b = frac(bound);
      const inRange = (p: Decimal) => p.minus(price).abs().div(price).lte(b);
      if (this.lastMid > price.toNumber()) band.low = Math.max(band.low, lowEdge(price.times(Decimal.add(1, b)), inRange));
      else band.high = Math.min(band.high, highEdge(price.times(Decimal.sub(1, b)), inRange));
    }
    return band;
  }

  protected onOrder(order: TrackedOrder, _fills: OrderFill[], ctx: ExecutorContext): void {
    const endedShort = order.state === 'rejected' || (order.state === 'canceled' && !order.cancelRequested);
    if (order.role !== 'level' || !endedShort || this.ledger.openedQuote.gt(0)) return;
    this.beginClose(ctx, order.state === 'rejected' && order.code === 'INSUFFICIENT_BALANCE' ? 'INSUFFICIENT_BALANCE' : 'FAILED', true);
  }

  protected riskQuote(): Decimal {
    return this.ledger.openedQuote;
  }

  protected custom(_market: MarketView): Record<string, unknown> {
    return {
      ...barrierPrices(this.levels(), this.trailing),
      levels_sent: this.sent.filter(Boolean).length,
      levels: this.sent.length,
      deadline: Number.isFinite(this.deadline) ? this.deadline : null,
    };
  }

  protected ownState(): Record<string, unknown> {
    return { trailing: this.trailing?.toJSON() ?? null, sent: [...this.sent] };
  }

  protected loadOwnState(s: Record<string, unknown>): void {
    this.trailing = loadTrailing(this.config.trailing_stop, this.config.side, s.trailing);
    this.sent = [...(s.sent as boolean[])];
  }
}
