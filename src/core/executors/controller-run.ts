import type { Clock } from '../clock.js';
import type { ExecutorPrincipal, ExecutorRuntime } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import type { MarketData } from '../market-data/market-data.js';
import type { ControllerDefinition } from '../strategy/controller.js';
import { StrategyRuntime, type ExecutorFactory } from '../strategy/runtime.js';
import type { ExecutorReport, OrderSink, OrderUpdate } from '../strategy/types.js';
import type { TradingService } from '../trading/trading-service.js';
import type { UsersService } from '../users/users-service.js';
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
  readonly #pairs: Array<{ connector: string; pair: string }>;
  readonly #deliver: (u: OrderUpdate) => void;
  /** Client order ids per executor, in the order placed. */
  readonly #orders = new Map<string, string[]>();
  /** The step in progress: steps never overlap. */
  #busy: Promise<void> = Promise.resolve();

  constructor(deps: ControllerRunDeps, req: StartControllerRun) {
    const def = req.controller;
    const parsed = def.config.safeParse(req.config);
    if (!parsed.success) {
      throw new AppError('VALIDATION_FAILED', `Invalid ${def.name} config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
        details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
      });
    }
    const needs = def.data(parsed.data);
    this.id = req.id;
    this.#view = new LiveMarketView(deps.market, deps.clock);
    for (const c of needs.candles) this.#view.watch(c.connector, c.tradingPair, c.interval, c.bars);
    const pairs = new Map(needs.quotes.map((q) => [`${q.connector}|${q.tradingPair}`, { connector: q.connector, pair: q.tradingPair }]));
    this.#pairs = [...pairs.values()];
    this.#runtime = new StrategyRuntime({
      controller: def.create(parsed.data),
      // As in a backtest: the controller decides once per closed candle of its first series (a controller
      // that reads no candles, once a minute).
      interval: needs.candles[0]?.interval ?? '1m',
      createExecutor: deps.createExecutor,
      idPrefix: orderIdPrefix(`controller:${req.id}`),
    });
    const runtime: ExecutorRuntime = { order_seq: 0, fills_seen: {}, last_seen: {}, error_count: 0, last_error: null };
    this.#sender = { kind: 'controller', id: req.id, account: req.accountName, principal: req.principal, outbox: [], runtime };
    this.#path = new OrderPath(deps.orders);
    const queue = this.#path.sink(this.#sender);
    this.#sink = {
      submit: (o) => {
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
    this.#deliver = (u) => this.#runtime.deliver(u);
  }

  /** One step at the clock's now. It rejects when the market cannot be read, before anything changed; the next step tries again. */
  step(): Promise<void> {
    const next = this.#busy.then(() => this.#step());
    this.#busy = next.catch(() => undefined);
    return next;
  }

  async #step(): Promise<void> {
    await this.#view.load(this.#pairs);
    const now = this.#view.now;
    await this.#path.poll(this.#sender, this.#runtime.workingOrderIds(), now, this.#deliver);
    await this.#runtime.stepSettled({ now, market: this.#view, sink: this.#sink }, async () => (await this.#path.flush(this.#sender, now, this.#deliver)) > 0);
  }

  /** Every executor's report as of the last step (ended ones final), in creation order. */
  reports(): ExecutorReport[] {
    return this.#runtime.allReports();
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
