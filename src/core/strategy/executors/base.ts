import { Decimal } from '../../decimal.js';
import type {
  CloseType,
  Executor,
  ExecutorContext,
  ExecutorReport,
  ExecutorStatus,
  MarketView,
  OrderFill,
  OrderRequest,
  OrderUpdate,
  Quote,
  Side,
  StrategyOrderType,
} from '../types.js';
import type { ExecutorConfig } from './configs.js';
import type { FinalParts } from '../final-reports.js';
import { ReportBase } from '../report-base.js';
import { FillLedger, type FillLedgerState } from './fill-ledger.js';
import { TrackedOrders, type TrackedOrder, type TrackedOrderState } from './tracked-orders.js';

/**
 * A close order rejected this many times in a row ends the executor as FAILED, the position left as is;
 * so do this many refused cancels while it shuts down (the orders are then left working, and the
 * executor's errors say why).
 */
export const MAX_CLOSE_REJECTIONS = 3;

const ZERO = new Decimal(0);

/** Hummingbot's naming: perpetual connectors end in `_perpetual` (or carry it before `_paper_trade`). */
export const isPerpetual = (connector: string): boolean => connector.includes('_perpetual');

export const opposite = (s: Side): Side => (s === 'buy' ? 'sell' : 'buy');

/** Why the venue refused an order: its error code and message, as the order update gave them. */
export interface Refusal {
  code: string | null;
  reason: string;
}

/** A refusal's message as kept (a venue's text can be long; what matters is its start). */
const REFUSAL_CHARS = 300;

/** What every executor keeps in its state(); the type's own fields sit beside these. */
export interface BaseState {
  id: string;
  type: ExecutorConfig['type'];
  config: ExecutorConfig;
  createdAt: number;
  status: ExecutorStatus;
  closeType: CloseType | null;
  closedAt: number | null;
  flatten: boolean;
  closeRejections: number;
  /** Refused cancels while shutting down (absent in states saved before it was kept). */
  cancelRefusals?: number;
  /** The first order the venue refused (absent: none, or a state saved before it was kept). */
  firstRefusal?: Refusal | null;
  ledger: FillLedgerState;
  orders: TrackedOrderState[];
}

/**
 * The part all five executors share: placing and cancelling through the sink with ids from the
 * context, the fill ledger fed from order updates, the report, and the way out. Ending is one path for
 * every type: `beginClose` cancels what works and, unless the position is kept, flattens it with market
 * orders (topping up if a cancelled order filled meanwhile); the executor is terminated only when no
 * order of its own is working and the position is flat or kept. State is mutated before the sink is
 * called, so a sink that answers synchronously (a backtest's) finds the order already tracked.
 */
export abstract class BaseExecutor<C extends ExecutorConfig = ExecutorConfig> implements Executor {
  status: ExecutorStatus = 'not_started';
  closeType: CloseType | null = null;
  closedAt: number | null = null;
  protected ledger = new FillLedger();
  protected orders = new TrackedOrders();
  /** While shutting down: whether the position is to be closed (false when it is kept). */
  protected flatten = false;
  protected closeRejections = 0;
  protected cancelRefusals = 0;
  /** The first order the venue refused: shown in the report, so an executor that ended refused says why. */
  private firstRefusal: Refusal | null = null;

  constructor(
    readonly config: C,
    readonly id: string,
    readonly createdAt: number,
  ) {}

  get type(): C['type'] {
    return this.config.type;
  }

  /** The market and side, as a report names them (a report is made from the executor's head). */
  get connector(): string {
    return this.config.connector_name;
  }

  get tradingPair(): string {
    return this.config.trading_pair;
  }

  get side(): Side | null {
    return this.config.side;
  }

  /** First tick: the executor is active from here; false ends the tick (the executor ended at once). */
  protected abstract start(ctx: ExecutorContext): boolean;
  /** One tick while active. */
  protected abstract step(ctx: ExecutorContext): void;
  /** An update of one of its orders while active, after its fills are in the ledger. */
  protected abstract onOrder(order: TrackedOrder, fills: OrderFill[], ctx: ExecutorContext): void;
  /** The quote the executor put at risk, the base of netPnlPct. */
  protected abstract riskQuote(): Decimal;
  protected abstract custom(market: MarketView): Record<string, unknown>;
  protected abstract ownState(): Record<string, unknown>;

  /** custom() as of now, to be built when first read; an executor whose custom() reads only immutable values it captures may defer the work. */
  protected customLater(market: MarketView): () => Record<string, unknown> {
    const c = this.custom(market);
    return () => c;
  }
  protected abstract loadOwnState(s: Record<string, unknown>): void;

  tick(ctx: ExecutorContext): void {
    if (this.status === 'terminated') return;
    if (this.status === 'shutting_down') return this.advanceClose(ctx);
    if (this.status === 'not_started') {
      this.status = 'active';
      if (!this.start(ctx)) return;
    }
    this.step(ctx);
  }

  onOrderUpdate(update: OrderUpdate, ctx: ExecutorContext): void {
    if (update.cancelRefused) {
      // The order works on: it may be cancelled again (while active the executor asks when it still wants to).
      const o = this.orders.get(update.clientOrderId);
      if (!o) return;
      o.cancelRequested = false;
      if (this.status === 'shutting_down') {
        this.cancelRefusals += 1;
        this.advanceClose(ctx);
      }
      return;
    }
    const r = this.orders.apply(update);
    if (!r) return;
    if (update.state === 'rejected' && this.firstRefusal === null) this.firstRefusal = { code: update.code ?? null, reason: (update.reason ?? '').slice(0, REFUSAL_CHARS) };
    for (const f of r.fills) this.ledger.apply(r.order.side, f);
    if (this.status === 'active') this.onOrder(r.order, r.fills, ctx);
    else if (this.status === 'shutting_down') {
      if (r.order.role === 'close' && r.order.state === 'rejected') this.closeRejections += 1;
      else if (r.order.role === 'close' && r.order.filled.gt(0)) this.closeRejections = 0;
      this.advanceClose(ctx);
    }
  }

  stop(ctx: ExecutorContext, keepPosition: boolean): void {
    if (this.status === 'terminated' || this.status === 'shutting_down') return;
    const holding = !this.ledger.position.isZero();
    this.beginClose(ctx, keepPosition && holding ? 'POSITION_HOLD' : 'EARLY_STOP', !keepPosition);
  }

  openOrderIds(): string[] {
    return this.orders.all().map((o) => o.id);
  }

  report(ctx: { now: number; market: MarketView }): ExecutorReport {
    const pos = this.ledger.position;
    const q = pos.isZero() ? null : this.quote(ctx.market);
    const unrealized = this.ledger.unrealizedPnl(q ? (pos.isPositive() ? q.bid : q.ask) : null);
    const net = this.ledger.realizedPnl.plus(unrealized).minus(this.ledger.fees);
    return new BuiltReport(this, this.ledger, pos.abs(), unrealized, net, this.riskQuote(), this.customLater(ctx.market), this.firstRefusal);
  }

  state(): Record<string, unknown> {
    const base: BaseState = {
      id: this.id,
      type: this.type,
      config: this.config,
      createdAt: this.createdAt,
      status: this.status,
      closeType: this.closeType,
      closedAt: this.closedAt,
      flatten: this.flatten,
      closeRejections: this.closeRejections,
      cancelRefusals: this.cancelRefusals,
      firstRefusal: this.firstRefusal,
      ledger: this.ledger.toJSON(),
      orders: this.orders.toJSON(),
    };
    return { ...base, ...this.ownState() };
  }

  /** Takes back what state() gave (the registry builds the executor from the config first). */
  load(s: Record<string, unknown>): this {
    const b = s as unknown as BaseState;
    this.status = b.status;
    this.closeType = b.closeType;
    this.closedAt = b.closedAt;
    this.flatten = b.flatten;
    this.closeRejections = b.closeRejections;
    this.cancelRefusals = b.cancelRefusals ?? 0;
    this.firstRefusal = b.firstRefusal ?? null;
    this.ledger = FillLedger.from(b.ledger);
    this.orders = TrackedOrders.from(b.orders);
    this.loadOwnState(s);
    return this;
  }

  protected quote(market: MarketView): Quote | null {
    return market.quote(this.config.connector_name, this.config.trading_pair);
  }

  protected place(
    ctx: ExecutorContext,
    o: { role: string; level?: number; side: Side; type: StrategyOrderType; amount: Decimal; price?: Decimal; positionAction?: 'open' | 'close' },
  ): TrackedOrder {
    const req: OrderRequest = {
      clientOrderId: ctx.newOrderId(),
      connector: this.config.connector_name,
      tradingPair: this.config.trading_pair,
      side: o.side,
      type: o.type,
      amount: o.amount,
    };
    if (o.price) req.price = o.price;
    if (isPerpetual(this.config.connector_name)) {
      req.positionAction = o.positionAction ?? 'open';
      req.leverage = this.config.leverage;
    }
    const tracked = this.orders.add(req, o.role, o.level ?? -1, ctx.now);
    ctx.sink.submit(req);
    return tracked;
  }

  protected cancel(ctx: ExecutorContext, o: TrackedOrder): void {
    if (o.cancelRequested) return;
    o.cancelRequested = true;
    ctx.sink.cancel(this.config.connector_name, this.config.trading_pair, o.id);
  }

  /** Ends the executor: cancels its working orders and, when `flatten`, closes the position at market. */
  protected beginClose(ctx: ExecutorContext, closeType: CloseType, flatten: boolean): void {
    this.status = 'shutting_down';
    this.closeType = closeType;
    this.flatten = flatten;
    for (let i = 0; i < this.orders.size; i++) {
      const o = this.orders.at(i);
      if (o.role !== 'close') this.cancel(ctx, o);
    }
    this.advanceClose(ctx);
  }

  /** Ends the executor at once, with nothing working and nothing held (a start past its deadline, a rejected open). */
  protected terminate(now: number, closeType: CloseType): void {
    this.status = 'terminated';
    this.closeType = closeType;
    this.closedAt = now;
  }

  /** Ends the executor at once as FAILED, before it placed anything, saying why (a grid the market's rules cannot size). */
  protected endRefused(now: number, refusal: Refusal): void {
    this.firstRefusal ??= { code: refusal.code, reason: refusal.reason.slice(0, REFUSAL_CHARS) };
    this.terminate(now, 'FAILED');
  }

  private advanceClose(ctx: ExecutorContext): void {
    if (this.status !== 'shutting_down') return;
    const pos = this.ledger.position;
    if (this.cancelRefusals >= MAX_CLOSE_REJECTIONS) return this.terminate(ctx.now, 'FAILED');
    // What a refused cancel left working is asked again.
    for (let i = 0; i < this.orders.size; i++) {
      const o = this.orders.at(i);
      if (o.role !== 'close' && !o.cancelRequested) this.cancel(ctx, o);
    }
    if (this.closeRejections >= MAX_CLOSE_REJECTIONS) {
      for (let i = 0; i < this.orders.size; i++) this.cancel(ctx, this.orders.at(i));
      if (this.orders.size === 0) this.terminate(ctx.now, 'FAILED');
      return;
    }
    if (this.flatten && !pos.isZero() && !this.orders.has('close')) {
      this.place(ctx, { role: 'close', side: pos.isPositive() ? 'sell' : 'buy', type: 'market', amount: pos.abs(), positionAction: 'close' });
      return;
    }
    if ((!this.flatten || pos.isZero()) && this.orders.size === 0) {
      this.status = 'terminated';
      this.closedAt = ctx.now;
    }
  }
}

/**
 * An executor's report as of one moment: plain fields, with netPnlPct (a division) and custom worked out
 * when first read, since a backtest's metrics read neither. Both depend only on what the constructor
 * captured, so a late read gives what an early one would have. A class, not a literal with getters: a
 * backtest builds one per executor, and a literal's getters are two closures and accessor pairs each.
 */
class BuiltReport extends ReportBase {
  readonly entryPrice: Decimal | null;
  readonly volume: Decimal;
  readonly fees: Decimal;
  readonly realizedPnl: Decimal;
  #risk: Decimal;
  #pct: Decimal | null = null;

  constructor(
    e: BaseExecutor,
    ledger: FillLedger,
    readonly positionAmount: Decimal,
    readonly unrealizedPnl: Decimal,
    readonly netPnl: Decimal,
    risk: Decimal,
    later: () => Record<string, unknown>,
    refusal: Refusal | null,
  ) {
    super(e, refusal === null ? later : () => ({ ...later(), first_refusal: refusal }));
    this.entryPrice = ledger.entryPrice;
    this.volume = ledger.volume;
    this.fees = ledger.fees;
    this.realizedPnl = ledger.realizedPnl;
    this.#risk = risk;
  }

  get netPnlPct(): Decimal {
    return (this.#pct ??= this.#risk.gt(0) ? this.netPnl.div(this.#risk) : ZERO);
  }

  /** What a store of final reports keeps of this one (see FinalReports): its figures, its risk, its custom part unbuilt. */
  finalParts(): FinalParts {
    return { report: this, risk: this.#risk, custom: this.customSource() };
  }
}
