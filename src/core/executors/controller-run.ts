import type { Clock } from '../clock.js';
import type { ExecutorPrincipal, ExecutorRuntime, OutboxEntry } from '../db/schema/index.js';
import type { MarketData } from '../market-data/market-data.js';
import type { ControllerDefinition } from '../strategy/controller.js';
import { StrategyRuntime, type ExecutorFactory, type PrunedTotals, type RuntimeState } from '../strategy/runtime.js';
import type { Decimal } from '../decimal.js';
import type { CandleInterval } from '../exchange/types.js';
import type { Executor, ExecutorReport, OrderSink, OrderUpdate, Side } from '../strategy/types.js';
import type { TradingService } from '../trading/trading-service.js';
import type { UsersService } from '../users/users-service.js';
import { parseStrategyConfig } from '../strategy/config-issues.js';
import { orderIdPrefix } from './client-order-ids.js';
import { LiveMarketView, type MarketSource } from './live-market.js';
import { ServerOrderActions, type OrderActions } from './order-actions.js';
import { OrderPath, type OrderSender } from './order-path.js';
import type { RunCommand } from './types.js';

/** What a run needs: where its orders go and where it reads the market (the server's own, or a bot's RPCs to the server). */
export interface ControllerRunDeps {
  orders: OrderActions;
  market: MarketSource;
  clock: Clock;
  createExecutor: ExecutorFactory;
  /** Rebuilds an executor from its state(): needed only to resume a run from `saved`. */
  restoreExecutor?: (state: Record<string, unknown>) => Executor;
}

/** Plain JSON from which a run resumes (a bot process after a restart): its runtime, outbox and order bookkeeping. */
export interface ControllerRunState {
  runtime: RuntimeState;
  outbox: OutboxEntry[];
  path: ExecutorRuntime;
  orders: Record<string, string[]>;
  placed: Record<string, { connector: string; pair: string; side: Side; fills: number }>;
}

/** The server's services a run on the server is built from. */
export interface ServerControllerRunDeps {
  marketData: MarketData;
  trading: TradingService;
  users: UsersService;
  clock: Clock;
  run: RunCommand;
  createExecutor: ExecutorFactory;
}

export interface StartControllerRun {
  /** Unique among runs: the runtime's executor and order ids are derived from it. */
  id: string;
  accountName: string;
  controller: ControllerDefinition;
  /** The controller's config, unparsed (validated here with the controller's schema). */
  config: unknown;
  /** Who every order runs as, and on which channel it is journaled. */
  principal: ExecutorPrincipal;
  /** Told of every fill of the run's orders, once, in the order they happened (a bot reports them). */
  onFill?: (fill: RunFill) => void;
  /** Resume from this `state()` instead of starting afresh (deps.restoreExecutor is then required). */
  saved?: ControllerRunState;
  /**
   * Keep about this many ended executors one by one; older ones are summed into prunedTotals() (a run
   * that lasts, such as a bot's). Default: keep every one.
   */
  keepEnded?: number;
}

/** One fill of a run's order; `index` counts the order's fills from 0, so (clientOrderId, index) names it for good. */
export interface RunFill {
  clientOrderId: string;
  index: number;
  connector: string;
  tradingPair: string;
  side: Side;
  price: Decimal;
  amount: Decimal;
  /** In the pair's quote asset. */
  fee: Decimal;
  isMaker: boolean;
  timestamp: number;
}

/**
 * One controller and its executors on the server's order path: the StrategyRuntime the backtester
 * drives over a candle path, here driven by the injected clock. Whoever drives the run calls `step` (a
 * bot runner on a timer, a test over a manual clock); each reads the market as of the
 * clock's now (quotes from the order book, the controller's candle series, closed candles only), delivers
 * what changed on working orders since the last step, then steps the runtime; every order the
 * executors place goes through execute() as the run's principal (OrderPath), and its answer is routed
 * back within the same step, as the backtester's venue answers within its step.
 *
 * Held in memory only: a restart loses the run, its executors and their view of open orders (the orders
 * themselves stay in the ledger). Standalone executors persist through the executors service; the bots
 * that will drive this module keep their own state.
 */
export class ControllerRun {
  readonly id: string;
  readonly #runtime: StrategyRuntime;
  readonly #view: LiveMarketView;
  readonly #path: OrderPath;
  readonly #sender: OrderSender;
  readonly #sink: OrderSink;
  #pairs: Array<{ connector: string; pair: string }> = [];
  readonly #deliver: (u: OrderUpdate) => void;
  readonly #def: ControllerDefinition;
  #config: unknown;
  /** Client order ids per executor, in the order placed. */
  readonly #orders = new Map<string, string[]>();
  /** What each working order is (for its fills' reports), and how many of its fills were told. */
  readonly #placed = new Map<string, { connector: string; pair: string; side: Side; fills: number }>();
  /** The step in progress: steps never overlap. */
  #busy: Promise<void> = Promise.resolve();
  readonly #keepEnded: number | undefined;

  constructor(deps: ControllerRunDeps, req: StartControllerRun) {
    const def = req.controller;
    const config = parseStrategyConfig(def, req.config);
    this.#def = def;
    this.#config = config;
    this.id = req.id;
    this.#keepEnded = req.keepEnded;
    this.#view = new LiveMarketView(deps.market, deps.clock);
    const interval = this.#watch(config);
    const options = { controller: def.create(config), interval, createExecutor: deps.createExecutor, idPrefix: orderIdPrefix(`controller:${req.id}`), executorsView: def.data(config).executors ?? 'all' };
    const saved = req.saved;
    if (saved && !deps.restoreExecutor) throw new Error('resuming a controller run needs restoreExecutor');
    this.#runtime = saved ? StrategyRuntime.restore(options, saved.runtime, deps.restoreExecutor!) : new StrategyRuntime(options);
    const runtime: ExecutorRuntime = saved ? structuredClone(saved.path) : { order_seq: 0, fills_seen: {}, last_seen: {}, error_count: 0, last_error: null };
    this.#sender = { kind: 'controller', id: req.id, account: req.accountName, principal: req.principal, outbox: saved ? structuredClone(saved.outbox) : [], runtime };
    if (saved) {
      for (const [k, v] of Object.entries(saved.orders)) this.#orders.set(k, [...v]);
      for (const [k, v] of Object.entries(saved.placed)) this.#placed.set(k, { ...v });
    }
    this.#path = new OrderPath(deps.orders);
    const queue = this.#path.sink(this.#sender);
    this.#sink = {
      submit: (o) => {
        this.#placed.set(o.clientOrderId, { connector: o.connector, pair: o.tradingPair, side: o.side, fills: 0 });
        // The runtime has just recorded which executor is placing it.
        const owner = this.#runtime.ownerOf(o.clientOrderId);
        if (owner !== undefined) {
          const ids = this.#orders.get(owner);
          if (ids) ids.push(o.clientOrderId);
          else this.#orders.set(owner, [o.clientOrderId]);
        }
        queue.submit(o);
      },
      cancel: (connector, pair, id) => queue.cancel(connector, pair, id),
    };
    this.#deliver = (u) => {
      const placed = this.#placed.get(u.clientOrderId);
      if (placed) {
        for (const f of u.newFills) {
          req.onFill?.({ clientOrderId: u.clientOrderId, index: placed.fills++, connector: placed.connector, tradingPair: placed.pair, side: placed.side, price: f.price, amount: f.amount, fee: f.fee, isMaker: f.isMaker, timestamp: f.timestamp });
        }
        if (u.state === 'filled' || u.state === 'canceled' || u.state === 'rejected') this.#placed.delete(u.clientOrderId);
      }
      this.#runtime.deliver(u);
    };
  }

  /** Watches what a config reads; returns the interval the controller decides on. */
  #watch(config: unknown): CandleInterval {
    const needs = this.#def.data(config);
    for (const c of needs.candles) this.#view.watch(c.connector, c.tradingPair, c.interval, c.bars);
    const pairs = new Map(needs.quotes.map((q) => [`${q.connector}|${q.tradingPair}`, { connector: q.connector, pair: q.tradingPair }]));
    this.#pairs = [...pairs.values()];
    // As in a backtest: the controller decides once per closed candle of its first series (a controller
    // that reads no candles, once a minute).
    return needs.candles[0]?.interval ?? '1m';
  }

  /**
   * One step at the clock's now. It rejects when the market cannot be read, before anything changed; the
   * next step tries again. `decide: false` carries the executors on without asking the controller (a
   * stopping run).
   */
  step(opts: { decide?: boolean } = {}): Promise<void> {
    return this.#exclusive(async () => {
      const now = await this.#load();
      await this.#runtime.stepSettled({ now, market: this.#view, sink: this.#sink }, this.#send(now), opts);
      this.#prune();
    });
  }

  /**
   * Asks every active executor to end: working orders cancelled, the position closed unless
   * `keepPosition`. Steps with `decide: false` then carry them to their end.
   */
  stopExecutors(keepPosition: boolean): Promise<void> {
    return this.#exclusive(async () => {
      const now = await this.#load();
      await this.#runtime.stopAllSettled({ now, market: this.#view, sink: this.#sink }, this.#send(now), keepPosition);
      this.#prune();
    });
  }

  /** Executors not yet ended. */
  get activeCount(): number {
    return this.#runtime.activeCount;
  }

  get controllerName(): string {
    return this.#def.name;
  }

  /** The config as parsed (defaults filled in). */
  get config(): unknown {
    return this.#config;
  }

  /** Validates `config` with the controller's schema and runs the controller with it from the next step; its executors stay. */
  reconfigure(config: unknown): Promise<void> {
    const parsed = parseStrategyConfig(this.#def, config);
    return this.#exclusive(async () => {
      const interval = this.#watch(parsed);
      this.#runtime.setController(this.#def.create(parsed), interval);
      this.#config = parsed;
    });
  }

  #prune(): void {
    if (this.#keepEnded === undefined) return;
    for (const id of this.#runtime.pruneEnded(this.#keepEnded)) this.#orders.delete(id);
  }

  #exclusive(fn: () => Promise<void>): Promise<void> {
    const next = this.#busy.then(fn);
    this.#busy = next.catch(() => undefined);
    return next;
  }

  async #load(): Promise<number> {
    await this.#view.load(this.#pairs);
    const now = this.#view.now;
    await this.#path.poll(this.#sender, this.#runtime.workingOrderIds(), now, this.#deliver);
    return now;
  }

  #send(now: number): () => Promise<boolean> {
    return async () => (await this.#path.flush(this.#sender, now, this.#deliver)) > 0;
  }

  /** What the run resumes from; taken between steps (call it after a step's promise settled). */
  state(): ControllerRunState {
    return {
      runtime: this.#runtime.state(),
      outbox: structuredClone(this.#sender.outbox),
      path: structuredClone(this.#sender.runtime),
      orders: Object.fromEntries(this.#orders),
      placed: Object.fromEntries([...this.#placed].map(([k, v]) => [k, { ...v }])),
    };
  }

  /** Every executor's report as of the last step (ended ones final), in creation order. */
  reports(): ExecutorReport[] {
    return this.#runtime.allReports();
  }

  /** What the ended executors no longer kept one by one (see StartControllerRun.keepEnded) added up to. */
  prunedTotals(): PrunedTotals {
    return this.#runtime.prunedTotals();
  }

  /** The client order ids an executor of this run placed, oldest first (the orders are in the account's ledger). */
  ordersOf(executorId: string): readonly string[] {
    return this.#orders.get(executorId) ?? [];
  }

  /** Order actions refused or failed so far, and the last failure's message. */
  get errors(): { count: number; last: string | null } {
    return { count: this.#sender.runtime.error_count, last: this.#sender.runtime.last_error };
  }
}

/** Starts controller runs with the server's services: the composition root holds one, a bot runner will use it. */
export class ControllerRuns {
  readonly #deps: ControllerRunDeps;

  constructor(deps: ServerControllerRunDeps) {
    this.#deps = { orders: new ServerOrderActions(deps), market: deps.marketData, clock: deps.clock, createExecutor: deps.createExecutor };
  }

  start(req: StartControllerRun): ControllerRun {
    return new ControllerRun(this.#deps, req);
  }
}
