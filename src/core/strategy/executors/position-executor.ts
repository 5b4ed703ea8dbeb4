import { compactDecimal, compactText, Decimal } from '../../decimal.js';
import type { ExecutorContext, IdleBand, MarketView, OrderFill } from '../types.js';
import { BaseExecutor } from './base.js';
import { EntryBarriers, type BarrierLevels, barrierBand, checkBarriers, loadTrailing, markPrice, type TrailingTrigger } from './barriers.js';
import type { PositionExecutorConfig } from './configs.js';
import type { TrackedOrder } from './tracked-orders.js';

/**
 * One directional position under a triple barrier. It opens with a market, limit or limit-maker order
 * (a limit at `entry_price`, or at the touch — bid for a buy, ask for a sell — when absent); once
 * anything is filled it checks, each tick, the mark price (bid for a long, ask for a short) against
 * stop loss → trailing stop → take profit, then the time limit; the first that fires closes the
 * position with a market order. Barriers are gross price barriers on the average entry (entry × (1 ± f)),
 * not PnL net of fees. A take profit of limit type rests as a limit at entry × (1 ± tp) as soon as the
 * open order is done; its fill ends the executor as TAKE_PROFIT. The deadline is creation + time_limit:
 * reached with nothing filled the open order is cancelled and the executor ends EXPIRED (so does one
 * created already past it); with a position it closes as TIME_LIMIT.
 */
export class PositionExecutor extends BaseExecutor<PositionExecutorConfig> {
  /** Armed trailing trigger, null until armed. */
  private trailing: TrailingTrigger | null = null;
  /** The open order is done (filled, or ended by the venue with what it filled). */
  private openDone = false;
  /** The resting take profit was refused by the venue; from then on take profit is checked as a market barrier. */
  private takeProfitAtMarket: boolean;

  constructor(config: PositionExecutorConfig, id: string, createdAt: number) {
    super(config, id, createdAt);
    this.takeProfitAtMarket = config.triple_barrier.take_profit_order_type === 'market';
    const b = config.triple_barrier;
    this.barriers = new EntryBarriers({ stopLoss: b.stop_loss, takeProfit: b.take_profit, trailing: b.trailing_stop }, config.side);
  }

  /** The barrier prices of the current entry (recomputed only when a fill moves it). */
  private readonly barriers: EntryBarriers;

  private levels(): BarrierLevels | null {
    return this.barriers.at(this.ledger.entryPrice);
  }

  private get deadline(): number {
    const t = this.config.triple_barrier.time_limit;
    return t === undefined ? Infinity : this.createdAt + t * 1000;
  }

  protected start(ctx: ExecutorContext): boolean {
    if (ctx.now >= this.deadline) {
      this.terminate(ctx.now, 'EXPIRED');
      return false;
    }
    const type = this.config.triple_barrier.open_order_type;
    let price: Decimal | undefined;
    if (type !== 'market') {
      const q = this.quote(ctx.market);
      price = this.config.entry_price ? new Decimal(this.config.entry_price) : q ? (this.config.side === 'buy' ? q.bid : q.ask) : undefined;
      if (!price) {
        // No price to rest at yet: try again next tick.
        this.status = 'not_started';
        return false;
      }
    }
    this.place(ctx, { role: 'open', side: this.config.side, type, amount: new Decimal(this.config.amount), ...(price ? { price } : {}) });
    return this.status === 'active';
  }

  protected step(ctx: ExecutorContext): void {
    const held = !this.ledger.position.isZero();
    if (held) {
      const q = this.quote(ctx.market);
      if (q) {
        const r = checkBarriers(this.levels()!, markPrice(q, this.config.side), this.trailing, this.takeProfitAtMarket);
        this.trailing = r.trailing;
        if (r.hit) return this.beginClose(ctx, r.hit, true);
      }
    }
    if (ctx.now >= this.deadline) return this.beginClose(ctx, held ? 'TIME_LIMIT' : 'EXPIRED', true);
    this.placeTakeProfit(ctx);
  }

  protected onOrder(order: TrackedOrder, _fills: OrderFill[], ctx: ExecutorContext): void {
    if (order.role === 'open') {
      if (order.state === 'filled') this.openDone = true;
      else if (order.state === 'canceled' || order.state === 'rejected') {
        this.openDone = true;
        if (order.filled.isZero()) {
          const closeType = order.state === 'rejected' && order.code === 'INSUFFICIENT_BALANCE' ? 'INSUFFICIENT_BALANCE' : 'FAILED';
          return this.beginClose(ctx, closeType, true);
        }
      }
      this.placeTakeProfit(ctx);
    } else if (order.role === 'take_profit') {
      if (order.state === 'filled') this.beginClose(ctx, 'TAKE_PROFIT', true);
      else if (order.state === 'rejected' || order.state === 'canceled') this.takeProfitAtMarket = true;
    }
  }

  /** The resting take profit, once the open is done, for what is held. */
  private placeTakeProfit(ctx: ExecutorContext): void {
    const tp = this.config.triple_barrier.take_profit;
    if (this.takeProfitAtMarket || tp === undefined || !this.openDone || this.status !== 'active') return;
    if (this.ledger.position.isZero() || this.orders.has('take_profit')) return;
    this.place(ctx, {
      role: 'take_profit',
      side: this.config.side === 'buy' ? 'sell' : 'buy',
      type: this.config.triple_barrier.take_profit_order_type,
      amount: this.ledger.position.abs(),
      price: this.levels()!.takeProfit!,
      positionAction: 'close',
    });
  }

  /**
   * While active, nothing happens before the deadline unless the price reaches a barrier: with nothing
   * held yet the executor only waits for its open order's update; holding, the band runs from the
   * highest price that would close (stop loss, armed trailing trigger, market take profit, on the side
   * the position loses or gains) to the lowest that would close, arm or raise the trailing stop. The
   * band is recomputed only when the entry or the trailing trigger moved.
   */
  idleBand(): IdleBand | null {
    if (this.status !== 'active') return null;
    const until = this.deadline;
    if (this.ledger.position.isZero()) return this.openDone ? null : { low: -Infinity, high: Infinity, until };
    const tp = this.config.triple_barrier.take_profit;
    if (!this.takeProfitAtMarket && tp !== undefined && this.openDone && !this.orders.has('take_profit')) return null;
    const levels = this.levels()!;
    const key = this.bandKey;
    // Levels are kept while the entry stands and the trailing trigger is replaced, never mutated: identity says nothing moved.
    if (key && key.levels === levels && key.trailing === this.trailing && key.atMarket === this.takeProfitAtMarket) return key.band;
    const band: IdleBand = { low: -Infinity, high: Infinity, until };
    barrierBand(levels, this.trailing, this.takeProfitAtMarket, band);
    this.bandKey = { levels, trailing: this.trailing, atMarket: this.takeProfitAtMarket, band };
    return band;
  }

  private bandKey: { levels: BarrierLevels; trailing: TrailingTrigger | null; atMarket: boolean; band: IdleBand } | null = null;

  protected riskQuote(): Decimal {
    return this.ledger.openedQuote;
  }

  protected custom(market: MarketView): Record<string, unknown> {
    return this.customLater(market)();
  }

  /**
   * Levels and trigger are replaced, never changed, so the strings can wait until read. Only the prices
   * shown are kept for then, as doubles where one stands for the decimal: a backtest keeps every final
   * report to the end.
   */
  protected override customLater(_market: MarketView): () => Record<string, unknown> {
    const levels = this.levels();
    const trailing = this.trailing;
    const deadline = this.deadline;
    const stopLoss = compactDecimal(levels?.stopLoss ?? null);
    const takeProfit = compactDecimal(levels?.takeProfit ?? null);
    const trailingStop = compactDecimal(levels !== null && trailing !== null ? levels.trailingAt(trailing).fire : null);
    return () => positionCustom(stopLoss, takeProfit, trailingStop, trailing, deadline);
  }

  protected ownState(): Record<string, unknown> {
    return { trailing: this.trailing?.toJSON() ?? null, openDone: this.openDone, takeProfitAtMarket: this.takeProfitAtMarket };
  }

  protected loadOwnState(s: Record<string, unknown>): void {
    this.trailing = loadTrailing(this.config.triple_barrier.trailing_stop, this.config.side, s.trailing);
    this.openDone = s.openDone as boolean;
    this.takeProfitAtMarket = s.takeProfitAtMarket as boolean;
  }
}

/** A price kept for a report (see compactDecimal). */
type Kept = number | Decimal | null;

/** The custom part of a position's report, in barrierPrices' key order. */
function positionCustom(stopLoss: Kept, takeProfit: Kept, trailingStop: Kept, trailing: TrailingTrigger | null, deadline: number): Record<string, unknown> {
  return {
    stop_loss_price: compactText(stopLoss),
    take_profit_price: compactText(takeProfit),
    trailing_stop_price: compactText(trailingStop),
    trailing_trigger_pnl: trailing?.fraction().toString() ?? null,
    deadline: Number.isFinite(deadline) ? deadline : null,
  };
}
