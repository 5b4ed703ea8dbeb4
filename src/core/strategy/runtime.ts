import { Decimal } from '../decimal.js';
import { AppError } from '../errors.js';
import type { CandleInterval } from '../exchange/types.js';
import { INTERVAL_MS } from '../exchange/types.js';
import type { ExecutorConfig } from './executors/configs.js';
import { type FinalParts, FinalReports } from './final-reports.js';
import { IdBook } from './id-book.js';
import { SeenIds } from './seen-ids.js';
import type {
  ControllerInstance,
  ControllerView,
  Executor,
  ExecutorAction,
  ExecutorContext,
  ExecutorReport,
  IdleBand,
  MarketView,
  OrderRequest,
  OrderSink,
  OrderUpdate,
} from './types.js';

/** Builds an executor from its config (the executor registry), active from its first tick. */
export type ExecutorFactory = (config: ExecutorConfig, id: string, createdAt: number) => Executor;

export interface RuntimeOptions {
  controller: ControllerInstance;
  /** The controller's main interval: `update` runs once per closed candle of it. */
  interval: CandleInterval;
  createExecutor: ExecutorFactory;
  /** Prefix of the executor and order ids this runtime makes (ids are `<prefix>e<n>` and `<prefix>o<n>`). */
  idPrefix?: string;
  /**
   * Build an ended executor's final report as it ends rather than when first read, so the executor
   * itself is dropped at once (a backtest reads every report at the end anyway; keeping thousands of
   * ended executors alive until then only makes the garbage collector copy them). The final reports
   * are then kept in rows of doubles (FinalReports) for the rest of the run.
   */
  finalizeEnded?: boolean;
  /**
   * Called once with each report as it becomes final (ended, nothing held), before it is kept: a
   * backtest tallies its trade figures here, from the report's own decimals.
   */
  onFinal?: (report: ExecutorReport) => void;
  /**
   * 'active': the controller declared it reads only `activeExecutors` (DataNeeds.executors), and reading
   * `executors` throws saying so; what pruneEnded() drops is then invisible to it.
   */
  executorsView?: 'all' | 'active';
  /**
   * With finalizeEnded, for a run whose caller lists no executors (an optimization trial) and whose
   * controller reads only active ones (executorsView 'active', required): a report, once final and handed
   * to onFinal, leaves the runtime at once. It is neither kept nor counted in prunedTotals(); the caller
   * counts it through onFinal. The ended executors of a month's trial are thousands of reports that
   * nothing reads, which the garbage collector would otherwise copy until the trial ends.
   */
  dropFinal?: boolean;
}

export interface StepContext {
  now: number;
  market: MarketView;
  sink: OrderSink;
  /**
   * The current price as a number, when the driver knows it (a backtest's path point): executors whose
   * idle band holds it are not ticked. Absent: every active executor is ticked.
   */
  price?: number;
}

/**
 * What `state()` saves and `StrategyRuntime.restore` takes back: each executor that may still change as
 * its own state, an ended one whose report is final as that report (decimals as strings), in creation
 * order; the order owners and the counters, so ids never repeat; when the controller is next due.
 */
export interface RuntimeState {
  executors: Array<{ state: Record<string, unknown>; createdAt: number } | { report: Record<string, unknown> }>;
  /** What the ended executors dropped by pruneEnded() added up to (absent: none were dropped). */
  pruned?: SavedPrunedTotals;
  owners: Record<string, string>;
  executorSeq: number;
  orderSeq: number;
  /** null: due at the next step. */
  nextDue: number | null;
}

/**
 * The sum of the ended executors a long-running runtime no longer keeps one by one (see pruneEnded):
 * what its PnL and volume figures still need from them. An ended executor that was dropped holds no
 * position, so it has no unrealized PnL.
 */
export interface PrunedTotals {
  count: number;
  volume: Decimal;
  fees: Decimal;
  realizedPnl: Decimal;
  netPnl: Decimal;
  closeTypes: Record<string, number>;
}
type SavedPrunedTotals = { count: number; volume: string; fees: string; realizedPnl: string; netPnl: string; closeTypes: Record<string, number> };

const noPruned = (): PrunedTotals => ({ count: 0, volume: new Decimal(0), fees: new Decimal(0), realizedPnl: new Decimal(0), netPnl: new Decimal(0), closeTypes: {} });

const DECIMAL_FIELDS = ['positionAmount', 'volume', 'fees', 'realizedPnl', 'unrealizedPnl', 'netPnl', 'netPnlPct'] as const;

function savedReport(r: ExecutorReport): Record<string, unknown> {
  // netPnlPct and custom may be getters of the report's class, which a spread does not copy: set by name.
  const out: Record<string, unknown> = { ...r };
  for (const k of DECIMAL_FIELDS) out[k] = r[k].toString();
  out.entryPrice = r.entryPrice?.toString() ?? null;
  out.custom = r.custom;
  return out;
}

function loadedReport(r: Record<string, unknown>): ExecutorReport {
  const out = { ...r } as Record<string, unknown>;
  for (const k of DECIMAL_FIELDS) out[k] = new Decimal(String(r[k]));
  out.entryPrice = r.entryPrice === null || r.entryPrice === undefined ? null : new Decimal(String(r.entryPrice));
  return out as unknown as ExecutorReport;
}

function savedPruned(t: PrunedTotals): SavedPrunedTotals {
  return { count: t.count, volume: t.volume.toString(), fees: t.fees.toString(), realizedPnl: t.realizedPnl.toString(), netPnl: t.netPnl.toString(), closeTypes: { ...t.closeTypes } };
}

function loadedPruned(t: SavedPrunedTotals): PrunedTotals {
  return { count: t.count, volume: new Decimal(t.volume), fees: new Decimal(t.fees), realizedPnl: new Decimal(t.realizedPnl), netPnl: new Decimal(t.netPnl), closeTypes: { ...t.closeTypes } };
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

const notStepped = (): never => {
  throw new Error('The strategy runtime has not been stepped yet.');
};
/** The market an executor or controller sees before the first step: every read says why there is none. */
const NOT_STEPPED: MarketView = {
  get now(): number {
    return notStepped();
  },
  quote: notStepped,
  candles: notStepped,
  rules: notStepped,
};

const ACTIVE_ONLY = "The controller read view.executors, but its data() declares executors: 'active' (it reads view.activeExecutors only).";
const ACTIVE_ONLY_HINT = "Declare executors: 'all' in the controller's data() (or leave it out) to read ended executors, or read view.activeExecutors.";

/** memoAt of a report that no longer changes. */
const FINAL = -2;

class Active {
  band: IdleBand | null = null;
  /** Its full report, computed at most once per step (the step's sequence number in `memoAt`). */
  memo: ExecutorReport | null = null;
  memoAt = -1;
  readonly live: LiveReport;
  constructor(
    readonly executor: Executor,
    readonly createdAt: number,
    /** Where its report sits in the controller's view (moved when pruneEnded() compacts the view). */
    public slot: number,
    full: (a: Active) => ExecutorReport,
  ) {
    this.live = new LiveReport(this, full);
  }
}

/**
 * An active executor's entry in the controller's view. What a controller checks every step (id, side,
 * status, creation time) is read straight from the executor; the first read of a figure (PnL, volume,
 * position) computes the executor's report once for the step. Most steps read no figure at all.
 */
class LiveReport implements ExecutorReport {
  constructor(
    private readonly a: Active,
    private readonly full: (a: Active) => ExecutorReport,
  ) {}
  get id() {
    return this.a.executor.id;
  }
  get type() {
    return this.a.executor.type;
  }
  get connector() {
    return this.a.executor.config.connector_name;
  }
  get tradingPair() {
    return this.a.executor.config.trading_pair;
  }
  get side() {
    return this.a.executor.config.side;
  }
  get status() {
    return this.a.executor.status;
  }
  get closeType() {
    return this.a.executor.closeType;
  }
  get createdAt() {
    return this.a.createdAt;
  }
  get closedAt() {
    return this.full(this.a).closedAt;
  }
  get positionAmount() {
    return this.full(this.a).positionAmount;
  }
  get entryPrice() {
    return this.full(this.a).entryPrice;
  }
  get volume() {
    return this.full(this.a).volume;
  }
  get fees() {
    return this.full(this.a).fees;
  }
  get realizedPnl() {
    return this.full(this.a).realizedPnl;
  }
  get unrealizedPnl() {
    return this.full(this.a).unrealizedPnl;
  }
  get netPnl() {
    return this.full(this.a).netPnl;
  }
  get netPnlPct() {
    return this.full(this.a).netPnlPct;
  }
  get custom() {
    return this.full(this.a).custom;
  }
  toJSON(): ExecutorReport {
    return this.full(this.a);
  }
}

/**
 * Drives one controller and its executors on whatever clock the caller steps it with: a backtest's path
 * points, the server's update interval, a bot's timer. One step:
 *
 * 1. routes the order updates queued since the last step to the executor that placed each order;
 * 2. ticks the active executors (in creation order), then routes what those ticks caused;
 * 3. when a candle of the main interval has closed since the controller last ran, calls its `update`
 *    and applies the actions: create builds the executor through the factory (first ticked next step),
 *    stop asks it to end.
 *
 * Active executors and the reports of ended ones live apart, and the controller's view of its executors
 * is one array kept in place (each entry live, see LiveReport, until an ended executor's report is
 * final), with the active entries also in a list of their own; so a step costs what the active
 * executors cost, however many have run before.
 */
export class StrategyRuntime {
  private readonly active: Active[] = [];
  private readonly byId = new IdBook<Active>();
  /** Every executor whose report is still live (active, or ended and not yet final), for `state()`. */
  private readonly all = new IdBook<Active>();
  /** Where a one-shot run (finalizeEnded) keeps its final reports; null otherwise. */
  private readonly finals: FinalReports | null;
  /** Executor ids used so far (handed out ones in sequence, kept as a run: see SeenIds). */
  private readonly usedIds = new SeenIds();
  /** Reports in creation order: ended ones final, active ones live. */
  private readonly reports: ExecutorReport[] = [];
  /** The live reports of the active executors, rebuilt only when the active set changed. */
  private activeReports: ExecutorReport[] = [];
  private activeChanged = false;
  private readonly owner = new IdBook<Active>();
  /**
   * Updates queued for the next route(), the first `pendingCount` slots. The array keeps its slots: one
   * emptied by `length = 0` drops its store, and a backtest queues and routes a few times per executor.
   */
  private readonly pending: Array<OrderUpdate | null> = [];
  private pendingCount = 0;
  private executorSeq = 0;
  private orderSeq = 0;
  /** Close time of the next main-interval candle: the controller runs at the first step at or after it. */
  private nextDue = -Infinity;
  private stepSeq = 0;
  private current: Active | null = null;
  private stepCtx: StepContext | null = null;
  private readonly prefix: string;
  /** now and market are plain fields, set as a step begins (see enter): a getter per read was a call and a boxed number. */
  private readonly ectx: Writable<ExecutorContext>;
  private readonly view: Writable<ControllerView>;

  private controller: ControllerInstance;
  private intervalMs: number;
  /** Ended executors moved out of the active list (or restored ended) since the last prune. */
  private endedSincePrune = 0;
  /** Final reports let go at once (dropFinal). */
  private dropped = 0;
  private pruned: PrunedTotals = noPruned();

  constructor(private readonly o: RuntimeOptions) {
    this.controller = o.controller;
    this.intervalMs = INTERVAL_MS[o.interval];
    this.prefix = o.idPrefix ?? '';
    if (o.dropFinal && (!o.finalizeEnded || o.executorsView !== 'active')) throw new Error('dropFinal needs finalizeEnded and executorsView "active".');
    this.finals = o.finalizeEnded && !o.dropFinal ? new FinalReports() : null;
    const rt = this;
    const sink: OrderSink = {
      submit(order: OrderRequest) {
        // The order belongs to whichever executor is running: tick, update and stop all set `current`.
        if (rt.current) rt.owner.set(order.clientOrderId, rt.current);
        rt.ctx().sink.submit(order);
      },
      cancel(connector: string, tradingPair: string, clientOrderId: string) {
        rt.ctx().sink.cancel(connector, tradingPair, clientOrderId);
      },
    };
    this.ectx = {
      now: 0,
      market: NOT_STEPPED,
      sink,
      newOrderId: () => `${this.prefix}o${++this.orderSeq}`,
    };
    this.view = {
      now: 0,
      market: NOT_STEPPED,
      get executors() {
        if (o.executorsView === 'active') throw new AppError('PRECONDITION_FAILED', ACTIVE_ONLY, { hint: ACTIVE_ONLY_HINT });
        return rt.reports;
      },
      get activeExecutors() {
        return rt.liveActive();
      },
      newExecutorId: () => this.nextExecutorId(),
    };
  }

  /** Queues an order update from the sink; it reaches its executor at the next step. */
  deliver(update: OrderUpdate): void {
    this.pending[this.pendingCount++] = update;
  }

  /** The executor that placed an order still working (undefined once the order is final). */
  ownerOf(clientOrderId: string): string | undefined {
    return this.owner.get(clientOrderId)?.executor.id;
  }

  get activeCount(): number {
    return this.active.length;
  }

  /**
   * Whether a step at (now, price) could do anything: updates are queued, the controller is due, or an
   * active executor has no idle band or is outside it. A driver may skip the step otherwise.
   */
  needsStep(now: number, price: number): boolean {
    if (this.pendingCount > 0 || now >= this.nextDue) return true;
    for (let i = 0; i < this.active.length; i++) {
      const b = this.active[i]!.band;
      if (b === null || price <= b.low || price >= b.high || now >= b.until) return true;
    }
    return false;
  }

  /**
   * The idle-band edge nearest `from` strictly between `from` and `to`, or NaN: where a price moving
   * from one to the other first wakes an executor. A backtest steps there too, so a stop fills at its
   * price rather than at the candle's extreme. `best`, an edge found elsewhere, is kept unless one here
   * is nearer.
   */
  nextEdge(from: number, to: number, best = Number.NaN): number {
    for (let i = 0; i < this.active.length; i++) {
      const b = this.active[i]!.band;
      if (b === null) continue;
      if (to < from) {
        if (b.low < from && b.low > to && !(best >= b.low)) best = b.low;
      } else if (b.high > from && b.high < to && !(best <= b.high)) best = b.high;
    }
    return best;
  }

  /**
   * nextEdge over `io` = [from, to, best]: io[2] becomes the nearer edge. For a driver's hot loop, where a
   * price passed into a call or returned from one is boxed; an array passes none.
   */
  edgeInto(io: Float64Array): void {
    io[2] = this.nextEdge(io[0]!, io[1]!, io[2]!);
  }

  /** One step with a sink that answers at once (a backtest's): its answers are routed within the step. */
  step(ctx: StepContext): void {
    this.tickAll(ctx);
    this.route();
    if (this.decide()) this.route();
    this.retire();
  }

  /**
   * The same step with a sink that answers later (the server's order path, where each order is a
   * command). `send` sends what the sink queued so far and delivers the answers, returning whether it
   * sent anything; it is awaited where step() routes the answers of a synchronous sink (after the ticks,
   * after the controller's actions), and the answers are routed at once, again until nothing more is
   * sent. So the executors and the controller meet the same events in the same order under either sink:
   * a close filled in this step is seen by the controller in this step, and stamped with this step's time.
   */
  async stepSettled(ctx: StepContext, send: () => Promise<boolean>, opts: { decide?: boolean } = {}): Promise<void> {
    this.tickAll(ctx);
    await this.settle(send);
    if (opts.decide !== false && this.decide()) await this.settle(send);
    this.retire();
  }

  /**
   * Asks every active executor to end (working orders cancelled; the position closed unless
   * `keepPosition`), with a sink that answers later as in stepSettled. The controller is not asked:
   * the strategy is being stopped. Steps without the controller (stepSettled with decide false) carry
   * the executors to their end.
   */
  async stopAllSettled(ctx: StepContext, send: () => Promise<boolean>, keepPosition: boolean): Promise<void> {
    this.enter(ctx);
    this.stepSeq++;
    this.route();
    for (let i = 0; i < this.active.length; i++) {
      const a = this.active[i]!;
      if (a.executor.status === 'terminated') continue;
      this.current = a;
      a.executor.stop(this.ectx, keepPosition);
      a.band = null;
    }
    this.current = null;
    await this.settle(send);
    this.retire();
  }

  /**
   * Swaps the controller for another instance (its config changed): the executors it made stay, and
   * the new one decides at the next step.
   */
  setController(controller: ControllerInstance, interval: CandleInterval): void {
    this.controller = controller;
    this.intervalMs = INTERVAL_MS[interval];
    this.nextDue = -Infinity;
  }

  /** Client order ids of the orders placed by this runtime's executors and not yet seen final. */
  workingOrderIds(): string[] {
    return this.owner.keys();
  }

  private tickAll(ctx: StepContext): void {
    this.enter(ctx);
    this.stepSeq++;
    this.route();
    const price = ctx.price;
    for (let i = 0; i < this.active.length; i++) {
      const a = this.active[i]!;
      if (a.executor.status === 'terminated') continue;
      const b = a.band;
      if (price !== undefined && b !== null && price > b.low && price < b.high && ctx.now < b.until) continue;
      this.current = a;
      a.executor.tick(this.ectx);
      a.band = a.executor.idleBand?.() ?? null;
    }
    this.current = null;
  }

  /** Runs the controller when a candle of its interval has closed since it last ran; true when it ran. */
  private decide(): boolean {
    const now = this.ctx().now;
    if (now < this.nextDue) return false;
    this.nextDue = Math.floor(now / this.intervalMs) * this.intervalMs + this.intervalMs;
    this.apply(this.controller.update(this.view));
    return true;
  }

  private async settle(send: () => Promise<boolean>): Promise<void> {
    this.route();
    while (await send()) this.route();
  }

  /** Plain JSON from which `restore` rebuilds this runtime between two steps (nothing queued then). */
  state(): RuntimeState {
    return {
      executors: this.reports.map((r) => {
        if (!(r instanceof LiveReport)) return { report: savedReport(r) };
        const a = this.byIdAll(r.id);
        return { state: a.executor.state(), createdAt: a.createdAt };
      }),
      ...(this.pruned.count > 0 ? { pruned: savedPruned(this.pruned) } : {}),
      owners: Object.fromEntries(this.owner.entries().map(([order, a]) => [order, a.executor.id])),
      executorSeq: this.executorSeq,
      orderSeq: this.orderSeq,
      nextDue: Number.isFinite(this.nextDue) ? this.nextDue : null,
    };
  }

  /** A runtime as `state()` saved it: executors rebuilt by `restoreExecutor`, barriers and working orders intact. */
  static restore(o: RuntimeOptions, saved: RuntimeState, restoreExecutor: (state: Record<string, unknown>) => Executor): StrategyRuntime {
    const rt = new StrategyRuntime(o);
    const byId = new Map<string, Active>();
    for (const e of saved.executors) {
      if ('report' in e) {
        const r = loadedReport(e.report);
        rt.usedIds.add(r.id);
        rt.reports.push(r);
        rt.endedSincePrune++;
        continue;
      }
      const executor = restoreExecutor(e.state);
      const a = new Active(executor, e.createdAt, rt.reports.length, rt.fullReport);
      rt.usedIds.add(executor.id);
      rt.reports.push(a.live);
      byId.set(executor.id, a);
      rt.all.set(executor.id, a);
      if (executor.status !== 'terminated') {
        rt.active.push(a);
        rt.byId.set(executor.id, a);
      }
    }
    for (const [order, id] of Object.entries(saved.owners)) {
      const a = byId.get(id);
      if (a) rt.owner.set(order, a);
    }
    if (saved.pruned) rt.pruned = loadedPruned(saved.pruned);
    rt.executorSeq = saved.executorSeq;
    rt.orderSeq = saved.orderSeq;
    rt.nextDue = saved.nextDue ?? -Infinity;
    rt.activeChanged = true;
    return rt;
  }

  private byIdAll(id: string): Active {
    return this.all.get(id)!;
  }

  /** Executors kept one by one (active, and ended ones not yet pruned). */
  get reportCount(): number {
    return this.reports.length;
  }

  /** Final reports let go at once (dropFinal): executors neither kept nor pruned. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Every executor's report as of the last step (ended ones final), in creation order. */
  allReports(): ExecutorReport[] {
    // A restored runtime not yet stepped has no market to value its executors at: nothing to show yet.
    if (!this.stepCtx) return this.reports.filter((r) => !(r instanceof LiveReport));
    // A copy: a report made final here may leave the list (dropFinal).
    return this.reports.slice().map((r) => (r instanceof LiveReport ? r.toJSON() : r));
  }

  /**
   * The reports not yet final, as of the last step: executors still running, or ended and still holding.
   * After allReports() (which makes final what has ended and was never read), these are exactly the
   * reports onFinal has not been handed.
   */
  openReports(): ExecutorReport[] {
    // As allReports(): not yet stepped, there is no market to value them at.
    if (!this.stepCtx) return [];
    const out: ExecutorReport[] = [];
    for (const r of this.reports.slice()) if (r instanceof LiveReport) out.push(r.toJSON());
    return out;
  }

  /** What the executors dropped by pruneEnded() added up to. */
  prunedTotals(): PrunedTotals {
    return this.pruned;
  }

  /**
   * Keeps at most about `keep` ended executors one by one, dropping the oldest whose report is final
   * (ended, nothing held) into prunedTotals(): a bot that runs for months would otherwise keep every
   * executor it ever ran, in memory, in its status and in its state file. An ended executor still
   * holding a position (stopped with keepPosition) is never dropped: its unrealized PnL still moves.
   * Runs only once `keep` plus a slack have ended since the last prune, so it costs nothing per step;
   * returns the ids dropped, and hands each dropped report to `onDropped`. Call it between steps. A
   * backtest calls it only past tens of thousands of executors (see the engine).
   */
  pruneEnded(keep: number, onDropped?: (report: ExecutorReport) => void): string[] {
    if (this.endedSincePrune <= Math.max(16, keep >> 1) || !this.stepCtx) return [];
    let ended = 0;
    for (const r of this.reports) if (!(r instanceof LiveReport) || r.status === 'terminated') ended++;
    this.endedSincePrune = 0;
    let drop = ended - keep;
    if (drop <= 0) return [];
    const dropped: string[] = [];
    let at = 0;
    for (let i = 0; i < this.reports.length; i++) {
      let r = this.reports[i]!;
      // An ended executor whose report was never read is finalised now (once), if it holds nothing.
      if (drop > 0 && r instanceof LiveReport && r.status === 'terminated') {
        this.fullReport(this.all.get(r.id)!);
        r = this.reports[i]!;
      }
      if (drop > 0 && !(r instanceof LiveReport)) {
        this.fold(r);
        onDropped?.(r);
        this.usedIds.delete(r.id);
        dropped.push(r.id);
        drop--;
        continue;
      }
      if (r instanceof LiveReport) this.all.get(r.id)!.slot = at;
      this.reports[at++] = r;
    }
    // In place: the controller's view holds this very array.
    this.reports.length = at;
    return dropped;
  }

  private fold(r: ExecutorReport): void {
    const t = this.pruned;
    t.count++;
    t.volume = t.volume.plus(r.volume);
    t.fees = t.fees.plus(r.fees);
    t.realizedPnl = t.realizedPnl.plus(r.realizedPnl);
    t.netPnl = t.netPnl.plus(r.netPnl);
    if (r.closeType) t.closeTypes[r.closeType] = (t.closeTypes[r.closeType] ?? 0) + 1;
  }

  /** Begins a step at `ctx`: what executors and the controller read as now and market. */
  private enter(ctx: StepContext): void {
    this.stepCtx = ctx;
    this.ectx.now = this.view.now = ctx.now;
    this.ectx.market = this.view.market = ctx.market;
  }

  private ctx(): StepContext {
    if (!this.stepCtx) throw new Error('The strategy runtime has not been stepped yet.');
    return this.stepCtx;
  }

  private nextExecutorId(): string {
    let id: string;
    do id = `${this.prefix}e${++this.executorSeq}`;
    while (this.usedIds.has(id));
    return id;
  }

  /** Hands queued updates to their executors; updates their handling causes are routed in the same pass. */
  private route(): void {
    if (this.pendingCount === 0) return;
    // pendingCount is read each round: updates queued by the handling join this pass.
    for (let i = 0; i < this.pendingCount; i++) {
      const u = this.pending[i]!;
      const a = this.owner.get(u.clientOrderId);
      if (u.state === 'filled' || u.state === 'canceled' || u.state === 'rejected') this.owner.delete(u.clientOrderId);
      if (!a || a.executor.status === 'terminated') continue;
      this.current = a;
      a.executor.onOrderUpdate(u, this.ectx);
      a.band = a.executor.idleBand?.() ?? null;
    }
    this.current = null;
    // Let go of the updates, keep the slots.
    for (let i = 0; i < this.pendingCount; i++) this.pending[i] = null;
    this.pendingCount = 0;
  }

  private apply(actions: readonly ExecutorAction[]): void {
    // Indexed: an iterator per call adds up at one call per candle.
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i]!;
      if (action.kind === 'create') {
        const id = action.config.id ?? this.nextExecutorId();
        if (!this.usedIds.add(id)) continue;
        const now = this.ctx().now;
        // The config as given when it already names the id (a controller's usual create): no copy.
        const executor = this.o.createExecutor(action.config.id === id ? action.config : { ...action.config, id }, id, now);
        const a = new Active(executor, now, this.reports.length, this.fullReport);
        this.reports.push(a.live);
        this.active.push(a);
        this.byId.set(id, a);
        this.all.set(id, a);
        this.activeChanged = true;
      } else {
        const a = this.byId.get(action.executorId);
        if (!a) continue;
        this.current = a;
        a.executor.stop(this.ectx, action.keepPosition);
        a.band = null;
        this.current = null;
      }
    }
  }

  /**
   * Moves terminated executors out of the active list. Their entry in the view stays live until first
   * read: most ended executors are never looked at before the run ends, so their report is built once,
   * when asked for (see fullReport).
   */
  private retire(): void {
    let kept = 0;
    for (let i = 0; i < this.active.length; i++) {
      const a = this.active[i]!;
      if (a.executor.status === 'terminated') {
        this.byId.delete(a.executor.id);
        this.activeChanged = true;
        this.endedSincePrune++;
        if (this.o.finalizeEnded) this.fullReport(a);
      } else this.active[kept++] = a;
    }
    if (kept !== this.active.length) this.active.length = kept;
  }

  /**
   * An executor's report as of this step, built at most once per step; an ended executor with nothing
   * held no longer changes, so its first report is kept for good (and replaces its live entry).
   */
  private readonly fullReport = (a: Active): ExecutorReport => {
    if (a.memo !== null && (a.memoAt === this.stepSeq || a.memoAt === FINAL)) return a.memo;
    const r = a.executor.report(this.ctx());
    a.memo = r;
    a.memoAt = this.stepSeq;
    if (a.executor.status === 'terminated' && r.positionAmount.isZero()) {
      // Kept to the end. Its custom part closes over values captured at report time, never the executor,
      // so it is left to be built when read (an optimizer trial never reads it).
      a.memoAt = FINAL;
      this.o.onFinal?.(r);
      this.all.delete(a.executor.id);
      if (this.o.dropFinal) {
        this.dropOut(a.slot);
        return r;
      }
      // A one-shot run keeps it in rows of doubles (see FinalReports); its own parts are let go.
      const parts = this.finals === null ? undefined : (r as Partial<{ finalParts(): FinalParts }>).finalParts?.();
      const kept = parts === undefined ? r : this.finals!.keep(parts);
      a.memo = kept;
      this.reports[a.slot] = kept;
    }
    return a.memo;
  };

  /**
   * Takes the entry at `slot` out of the view (dropFinal). The entries after it are all live (final ones
   * leave as they become final), so there are only the executors still working to move up.
   */
  private dropOut(slot: number): void {
    const reports = this.reports;
    for (let i = slot + 1; i < reports.length; i++) {
      const r = reports[i]!;
      this.all.get(r.id)!.slot = i - 1;
      reports[i - 1] = r;
    }
    reports.length--;
    this.dropped++;
  }

  private liveActive(): ExecutorReport[] {
    if (this.activeChanged) {
      this.activeReports = this.active.map((a) => a.live);
      this.activeChanged = false;
    }
    return this.activeReports;
  }
}
