import { Decimal } from '../../decimal.js';
import { highEdge, lowEdge } from '../price-edge.js';
import type { ExecutorContext, IdleBand, MarketView, OrderFill, Quote } from '../types.js';
import { BaseExecutor } from './base.js';
import type { OrderExecutorConfig } from './configs.js';
import type { TrackedOrder } from './tracked-orders.js';

/** A venue may end an order short on its own (a market order's unfilled rest, a limit-maker that would take); re-placed this many times at most. */
const MAX_REPLACEMENTS = 3;

const DEFAULT_CHASER = { distance: 0.001, refresh_threshold: 0.002 };

/**
 * One order executed with a strategy: at market, as a limit or limit-maker (at `price`, or at the touch
 * — bid for a buy, ask for a sell — when absent), or as a chaser: a limit resting `distance` behind the
 * best price (bid × (1 − d) for a buy, ask × (1 + d) for a sell) that is cancelled and re-placed for what
 * is left when the price it would rest at now is more than `refresh_threshold` (a fraction of the
 * resting price) away from where it rests. It completes when the amount is filled. Its fills are its
 * position: stop without keeping it closes them at market — except an order that closes a position
 * (`position_action: close`), whose fills reduced something held elsewhere and are not reversed.
 */
export class OrderExecutor extends BaseExecutor<OrderExecutorConfig> {
  private executed = new Decimal(0);
  private replacements = 0;

  private get amount(): Decimal {
    return new Decimal(this.config.amount);
  }

  protected start(ctx: ExecutorContext): boolean {
    if (!this.placeNext(ctx)) {
      this.status = 'not_started';
      return false;
    }
    return this.status === 'active';
  }

  protected step(ctx: ExecutorContext): void {
    const working = this.orders.working('order')[0];
    if (!working) {
      this.placeNext(ctx);
      return;
    }
    if (this.config.execution_strategy !== 'limit_chaser' || working.cancelRequested) return;
    const q = this.quote(ctx.market);
    if (!q || !working.price) return;
    const target = this.chasePrice(q);
    if (target.minus(working.price).abs().div(working.price).gt(String(this.chaser.refresh_threshold))) {
      // The rest is placed anew when the venue confirms the cancel (onOrder), never beside a working order.
      this.cancel(ctx, working);
    }
  }

  protected onOrder(order: TrackedOrder, fills: OrderFill[], ctx: ExecutorContext): void {
    for (const f of fills) this.executed = this.executed.plus(f.amount);
    // A filled order is done even when it filled less than asked: the venue quantised the amount down.
    if (order.state === 'filled' || this.executed.gte(this.amount)) return this.beginClose(ctx, 'COMPLETED', false);
    if (order.state === 'rejected') {
      const closeType = order.code === 'INSUFFICIENT_BALANCE' && this.executed.isZero() ? 'INSUFFICIENT_BALANCE' : 'FAILED';
      return this.beginClose(ctx, closeType, false);
    }
    if (order.state !== 'canceled') return;
    if (!order.cancelRequested && ++this.replacements > MAX_REPLACEMENTS) return this.beginClose(ctx, 'FAILED', false);
    this.placeNext(ctx);
  }

  override stop(ctx: ExecutorContext, keepPosition: boolean): void {
    if (this.config.position_action === 'close' && !keepPosition && (this.status === 'active' || this.status === 'not_started')) {
      return this.beginClose(ctx, 'EARLY_STOP', false);
    }
    super.stop(ctx, keepPosition);
  }

  private get chaser(): { distance: number; refresh_threshold: number } {
    return this.config.chaser ?? DEFAULT_CHASER;
  }

  private chasePrice(q: Quote): Decimal {
    const d = new Decimal(String(this.chaser.distance));
    return this.config.side === 'buy' ? q.bid.times(Decimal.sub(1, d)) : q.ask.times(Decimal.add(1, d));
  }

  /** Places the order for what is left; false when it needs a price and there is no quote yet. */
  private placeNext(ctx: ExecutorContext): boolean {
    const strategy = this.config.execution_strategy;
    const amount = this.amount.minus(this.executed);
    const pa = this.config.position_action ? { positionAction: this.config.position_action } : {};
    if (strategy === 'market') {
      this.place(ctx, { role: 'order', side: this.config.side, type: 'market', amount, ...pa });
      return true;
    }
    const q = this.quote(ctx.market);
    let price: Decimal | null;
    if (strategy === 'limit_chaser') price = q ? this.chasePrice(q) : null;
    else price = this.config.price ? new Decimal(this.config.price) : q ? (this.config.side === 'buy' ? q.bid : q.ask) : null;
    if (!price) return false;
    const type = strategy === 'limit_maker' ? 'limit_maker' : 'limit';
    this.place(ctx, { role: 'order', side: this.config.side, type, amount, price, ...pa });
    return true;
  }

  /**
   * With its order working, the executor waits for updates; a chaser also wakes when the price (bid for a
   * buy, ask for a sell; one price in a backtest) leaves the band in which its target stays within the
   * refresh threshold of the resting price. Cached per working order: its price does not change.
   */
  idleBand(): IdleBand | null {
    if (this.status !== 'active') return null;
    const working = this.orders.working('order')[0];
    if (!working) return null;
    if (this.config.execution_strategy !== 'limit_chaser' || working.cancelRequested || !working.price) return { low: -Infinity, high: Infinity, until: Infinity };
    if (this.bandOf?.id === working.id) return this.bandOf.band;
    const resting = working.price;
    const threshold = new Decimal(String(this.chaser.refresh_threshold));
    const moved = (p: Decimal) => {
      const target = this.chasePrice({ bid: p, ask: p, mid: p });
      return target.minus(resting).abs().div(resting).gt(threshold);
    };
    const d = new Decimal(String(this.chaser.distance));
    const scale = this.config.side === 'buy' ? Decimal.sub(1, d) : Decimal.add(1, d);
    const band: IdleBand = {
      low: lowEdge(resting.times(Decimal.sub(1, threshold)).div(scale), moved),
      high: highEdge(resting.times(Decimal.add(1, threshold)).div(scale), moved),
      until: Infinity,
    };
    this.bandOf = { id: working.id, band };
    return band;
  }

  private bandOf: { id: string; band: IdleBand } | null = null;

  protected riskQuote(): Decimal {
    return this.ledger.openedQuote;
  }

  protected custom(_market: MarketView): Record<string, unknown> {
    const working = this.orders.working('order')[0];
    return {
      execution_strategy: this.config.execution_strategy,
      executed_amount: this.executed.toString(),
      working_price: working?.price?.toString() ?? null,
      replacements: this.replacements,
    };
  }

  protected ownState(): Record<string, unknown> {
    return { executed: this.executed.toString(), replacements: this.replacements };
  }

  protected loadOwnState(s: Record<string, unknown>): void {
    this.executed = new Decimal(s.executed as string);
    this.replacements = s.replacements as number;
  }
}
