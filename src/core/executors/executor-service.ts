import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import type { Channel } from '../command/types.js';
import { Decimal } from '../decimal.js';
import type { Db } from '../db/client.js';
import type { ExecutorPrincipal, ExecutorRow, ExecutorRowStatus, ExecutorRuntime } from '../db/schema/index.js';
import { toAppError } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { MarketData } from '../market-data/market-data.js';
import type { Principal } from '../principal.js';
import type { ExecutorConfig } from '../strategy/executors/configs.js';
import type { Executor, ExecutorContext, ExecutorReport, OrderUpdate } from '../strategy/types.js';
import type { TradingService } from '../trading/trading-service.js';
import type { UsersService } from '../users/users-service.js';
import { clientOrderId } from './client-order-ids.js';
import { ExecutorStore } from './executor-store.js';
import { LiveMarketView } from './live-market.js';
import { ServerOrderActions } from './order-actions.js';
import { OrderPath, type OrderSender } from './order-path.js';
import { reportJson } from './report.js';
import type { ExecutorFactory, RunCommand } from './types.js';

export interface ExecutorServiceDeps {
  db: Db;
  marketData: MarketData;
  trading: TradingService;
  users: UsersService;
  clock: Clock;
  logger: Logger;
  factory: ExecutorFactory;
  run: RunCommand;
}

export interface ExecutorServiceOptions {
  /** Milliseconds between cycles; null runs none by itself (a test drives `runOnce`). */
  intervalMs: number | null;
  /** An executor whose runner has not heartbeated for this long is taken over. */
  staleAfterMs: number;
  /** Alone on its database: at start, every unfinished executor is this process's, whoever ran it. */
  exclusive: boolean;
  instanceId?: string;
}

interface Running extends OrderSender {
  kind: 'executor';
  connector: string;
  pair: string;
  executor: Executor;
  stopRequest: { keep_position: boolean } | null;
  view: LiveMarketView;
  report: ExecutorReport | null;
  /** What was last written, to write only what changed. */
  saved: string;
  /** The cycle in progress: cycles of one executor never overlap. */
  busy: Promise<unknown>;
}

/** One account's executors: counts, and PnL, fees and volume in quote as exact decimals. */
export interface AccountTotals {
  accountName: string;
  total: number;
  active: number;
  netPnl: Decimal;
  realizedPnl: Decimal;
  unrealizedPnl: Decimal;
  fees: Decimal;
  volume: Decimal;
}

export interface CreateExecutor {
  accountName: string;
  config: ExecutorConfig;
  principal: Principal;
  channel: Channel;
}

const initialRuntime = (): ExecutorRuntime => ({ order_seq: 0, fills_seen: {}, last_seen: {}, error_count: 0, last_error: null });

/**
 * Runs executors on the server's order path. Every cycle (each `intervalMs`) it heartbeats and claims
 * its executors, then for each one: loads a market view, delivers the updates of its working orders,
 * ticks it, and sends what it asked for.
 *
 * Crash safety is write-ahead: the order actions a tick asks for are not sent during the tick but put
 * in the executor's outbox, and the outbox is written in the same row update as the state that asked
 * for them (one statement, so never one without the other). Only then are they sent, each through
 * execute() under its client order id, and taken out of the outbox with the executor's reaction to the
 * answer in the next write. A crash before that write leaves the action in the outbox: it is sent
 * again after the restart, and a submit that had reached the order path is a replay of the same client
 * order id (no second order), a cancel of an order already cancelled is ignored and the poll tells the
 * truth. Fills are delivered once: the count already delivered is written with the state they changed.
 */
export class ExecutorService implements Lifecycle {
  readonly instanceId: string;
  readonly #store: ExecutorStore;
  readonly #path: OrderPath;
  readonly #running = new Map<string, Running>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #state: 'idle' | 'started' | 'stopped' = 'idle';

  constructor(
    private readonly deps: ExecutorServiceDeps,
    private readonly opts: ExecutorServiceOptions,
  ) {
    this.#store = new ExecutorStore(deps.db);
    this.#path = new OrderPath(new ServerOrderActions(deps));
    this.instanceId = opts.instanceId ?? `${hostname().slice(0, 64)}/${process.pid}/${randomBytes(6).toString('hex')}`;
  }

  get store(): ExecutorStore {
    return this.#store;
  }

  async start(): Promise<void> {
    this.#state = 'started';
    await this.#claim(this.opts.exclusive).catch((err) => this.deps.logger.warn('could not resume executors at start; retrying on the next cycle', { err }));
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#state = 'stopped';
    clearTimeout(this.#timer);
    await this.#round;
    await Promise.all([...this.#running.values()].map((r) => r.busy));
    // Handed back, so that the next process (a restart, another server) resumes them without waiting
    // for this one's heartbeat to go stale.
    const held = [...this.#running.keys()];
    this.#running.clear();
    await this.#store.release(held, this.instanceId).catch((err) => this.deps.logger.warn('could not hand back executors at stop; another process takes them once they go stale', { err }));
  }

  #schedule(): void {
    if (this.#state !== 'started' || this.opts.intervalMs === null) return;
    this.#timer = setTimeout(() => {
      this.#round = this.runOnce()
        .catch((err) => this.deps.logger.warn('executor cycle failed', { err }))
        .finally(() => this.#schedule());
    }, this.opts.intervalMs);
  }

  /** One round: heartbeat and claim, then one cycle of every executor this process runs. */
  async runOnce(): Promise<void> {
    await this.#claim(false);
    for (const run of [...this.#running.values()]) await this.#exclusive(run, () => this.#cycle(run));
  }

  /** Validated by the caller; starts the executor at once (its first tick places its first orders). */
  async create(req: CreateExecutor): Promise<ExecutorRow> {
    const { clock, factory, users } = this.deps;
    const id = req.config.id ?? `ex_${randomBytes(12).toString('base64url')}`;
    const now = clock.now();
    const executor = factory.create({ ...req.config, id }, id, now);
    const stored = (await users.principal(req.principal.name)) !== null;
    const principal: ExecutorPrincipal = { name: req.principal.name, role: req.principal.role, accounts: req.principal.accounts ? [...req.principal.accounts] : null, stored, channel: req.channel };
    const row = await this.#store.insert({
      id,
      accountName: req.accountName,
      connectorName: req.config.connector_name,
      tradingPair: req.config.trading_pair,
      type: req.config.type,
      side: 'side' in req.config ? req.config.side : null,
      controllerId: req.config.controller_id ?? null,
      config: { ...req.config, id },
      state: executor.state(),
      runtime: initialRuntime(),
      principal,
      runner: this.instanceId,
      now: new Date(now),
    });
    const run = this.#adopt(row, executor);
    await this.#exclusive(run, () => this.#cycle(run));
    return (await this.#store.get(id)) ?? row;
  }

  /** Asks the executor to stop; applied at once when this process runs it, else by its runner's next cycle. */
  async requestStop(row: ExecutorRow, keepPosition: boolean, by: string): Promise<ExecutorRow> {
    const updated = await this.#store.requestStop(row.id, keepPosition, by, new Date(this.deps.clock.now()));
    const run = this.#running.get(row.id);
    if (run) {
      run.stopRequest ??= { keep_position: keepPosition };
      await this.#exclusive(run, () => this.#cycle(run));
    }
    return (await this.#store.get(row.id)) ?? updated ?? row;
  }

  /** The report of an executor this process runs, as of its last cycle (unrealized PnL at that cycle's prices). */
  liveReport(id: string): Record<string, unknown> | null {
    const r = this.#running.get(id)?.report;
    return r ? reportJson(r) : null;
  }

  /**
   * PnL per account: ended executors summed in the database from their final reports, running ones
   * added from their latest report (this process's as of its last cycle, else the stored one).
   */
  async summary(accounts: readonly string[] | null, account?: string): Promise<AccountTotals[]> {
    const [ended, unended] = await Promise.all([this.#store.endedTotals(accounts, account), this.#store.unended(accounts, account)]);
    const by = new Map<string, AccountTotals>();
    const of = (name: string) => {
      let t = by.get(name);
      if (!t) by.set(name, (t = { accountName: name, total: 0, active: 0, netPnl: new Decimal(0), realizedPnl: new Decimal(0), unrealizedPnl: new Decimal(0), fees: new Decimal(0), volume: new Decimal(0) }));
      return t;
    };
    for (const e of ended) {
      const t = of(e.accountName);
      t.total += e.count;
      t.netPnl = t.netPnl.plus(e.netPnl);
      t.realizedPnl = t.realizedPnl.plus(e.realizedPnl);
      t.unrealizedPnl = t.unrealizedPnl.plus(e.unrealizedPnl);
      t.fees = t.fees.plus(e.fees);
      t.volume = t.volume.plus(e.volume);
    }
    for (const row of unended) {
      const t = of(row.accountName);
      const r = this.liveReport(row.id) ?? row.report ?? {};
      const d = (k: string) => new Decimal(typeof r[k] === 'string' ? (r[k] as string) : '0');
      t.total++;
      t.active++;
      t.netPnl = t.netPnl.plus(d('net_pnl_quote'));
      t.realizedPnl = t.realizedPnl.plus(d('realized_pnl_quote'));
      t.unrealizedPnl = t.unrealizedPnl.plus(d('unrealized_pnl_quote'));
      t.fees = t.fees.plus(d('cum_fees_quote'));
      t.volume = t.volume.plus(d('filled_amount_quote'));
    }
    return [...by.values()].sort((a, b) => (a.accountName < b.accountName ? -1 : 1));
  }

  #exclusive(run: Running, fn: () => Promise<void>): Promise<void> {
    const next = run.busy.then(fn).catch((err) => {
      run.runtime.error_count++;
      run.runtime.last_error = toAppError(err).message;
      this.deps.logger.warn('executor cycle failed', { executor_id: run.id, err });
    });
    run.busy = next;
    return next;
  }

  async #claim(takeAll: boolean): Promise<void> {
    const now = this.deps.clock.now();
    const rows = await this.#store.claim(this.instanceId, new Date(now), new Date(now - this.opts.staleAfterMs), takeAll);
    const held = new Set(rows.map((r) => r.id));
    // Taken over by another process (this one was too slow to heartbeat): it no longer runs them.
    for (const id of this.#running.keys()) if (!held.has(id)) this.#running.delete(id);
    for (const row of rows) {
      const run = this.#running.get(row.id);
      if (run) {
        if (row.stopRequest && !run.stopRequest) run.stopRequest = { keep_position: row.stopRequest.keep_position };
        continue;
      }
      try {
        this.#adopt(row, this.deps.factory.restore(row.state as Record<string, unknown>));
      } catch (err) {
        await this.#fail(row, err);
      }
    }
  }

  /** An executor whose stored state cannot be restored ends as FAILED rather than being retried for ever. */
  async #fail(row: ExecutorRow, err: unknown): Promise<void> {
    const message = toAppError(err).message;
    this.deps.logger.error('an executor could not be restored; it is marked FAILED and its position left as it is', { executor_id: row.id, err });
    const now = new Date(this.deps.clock.now());
    await this.#store.save(row.id, this.instanceId, {
      state: row.state as Record<string, unknown>,
      runtime: { ...row.runtime, error_count: row.runtime.error_count + 1, last_error: message },
      outbox: row.outbox,
      status: 'terminated',
      side: row.side,
      closeType: 'FAILED',
      report: row.report,
      closedAt: now,
      now,
    });
  }

  #adopt(row: ExecutorRow, executor: Executor): Running {
    const run: Running = {
      kind: 'executor',
      id: row.id,
      account: row.accountName,
      connector: row.connectorName,
      pair: row.tradingPair,
      principal: row.principal,
      executor,
      runtime: structuredClone(row.runtime),
      outbox: structuredClone(row.outbox),
      stopRequest: row.stopRequest ? { keep_position: row.stopRequest.keep_position } : null,
      view: new LiveMarketView(this.deps.marketData, this.deps.clock),
      report: null,
      saved: '',
      busy: Promise.resolve(),
    };
    run.saved = this.#fingerprint(run);
    this.#running.set(row.id, run);
    return run;
  }

  async #cycle(run: Running): Promise<void> {
    if (!this.#running.has(run.id)) return;
    try {
      await run.view.load([{ connector: run.connector, pair: run.pair }]);
    } catch (err) {
      // No prices, no decisions: the executor waits for the next cycle with its barriers where they were.
      this.deps.logger.warn('no market data for an executor; it waits for the next cycle', { executor_id: run.id, err });
      return;
    }
    const ctx = this.#context(run);
    const deliver = (u: OrderUpdate) => run.executor.onOrderUpdate(u, ctx);
    await this.#path.poll(run, run.executor.openOrderIds(), ctx.now, deliver);
    const { executor } = run;
    if (run.stopRequest && (executor.status === 'active' || executor.status === 'not_started')) executor.stop(ctx, run.stopRequest.keep_position);
    if (executor.status !== 'terminated') executor.tick(ctx);
    if (!(await this.#save(run))) return;
    if (run.outbox.length) {
      await this.#path.flush(run, ctx.now, deliver);
      await this.#save(run);
    }
  }

  #context(run: Running): ExecutorContext {
    return {
      now: run.view.now,
      market: run.view,
      sink: this.#path.sink(run),
      newOrderId: () => clientOrderId(run.id, ++run.runtime.order_seq),
    };
  }

  #status(run: Running): ExecutorRowStatus {
    const s = run.executor.status;
    if (s === 'terminated') return run.outbox.length ? 'shutting_down' : 'terminated';
    return s === 'shutting_down' ? 'shutting_down' : 'active';
  }

  #fingerprint(run: Running): string {
    return JSON.stringify([run.executor.state(), run.runtime, run.outbox, this.#status(run), run.executor.closeType]);
  }

  /** Writes the executor when it changed; false when another process runs it now (it is let go). */
  async #save(run: Running): Promise<boolean> {
    run.report = run.executor.report({ now: run.view.now, market: run.view });
    const print = this.#fingerprint(run);
    if (print === run.saved) return true;
    const status = this.#status(run);
    const now = new Date(this.deps.clock.now());
    const ok = await this.#store.save(run.id, this.instanceId, {
      state: run.executor.state(),
      runtime: run.runtime,
      outbox: run.outbox,
      status,
      side: run.report.side,
      closeType: run.executor.closeType,
      report: reportJson(run.report),
      closedAt: status === 'terminated' ? new Date(run.report.closedAt ?? now.getTime()) : null,
      now,
    });
    if (!ok) {
      this.#running.delete(run.id);
      // Not ours any more: nothing it asked for may be sent from here.
      run.outbox = [];
      return false;
    }
    run.saved = print;
    if (status === 'terminated') this.#running.delete(run.id);
    return true;
  }
}
