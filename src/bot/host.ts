import type { Performance } from '../core/bots/protocol/reports.js';
import type { BotLaunchSpec } from '../core/bots/runtime.js';
import type { Clock } from '../core/clock.js';
import { Decimal } from '../core/decimal.js';
import { AppError, toAppError } from '../core/errors.js';
import { ControllerRun, type ControllerRunState, type RunFill, type StartControllerRun } from '../core/executors/controller-run.js';
import type { MarketSource } from '../core/executors/live-market.js';
import type { OrderActions } from '../core/executors/order-actions.js';
import { reportJson } from '../core/executors/report.js';
import { ScriptRun, type ScriptRunState } from '../core/executors/script-run.js';
import { parseStrategyConfig } from '../core/strategy/config-issues.js';
import type { ExecutorFactory } from '../core/strategy/runtime.js';
import type { ControllerDefinition } from '../core/strategy/controller.js';
import type { Executor } from '../core/strategy/types.js';
import type { ScriptDefinition } from '../core/strategy/script.js';
import type { StrategyHost } from './agent.js';

type BotStrategy = BotLaunchSpec['strategy'];
type ExecutorPrincipal = StartControllerRun['principal'];

/** Where the host finds the strategies it is told to run (the strategy catalog: shipped and the operator's). */
export interface Strategies {
  controller(name: string): ControllerDefinition | undefined;
  script(name: string): ScriptDefinition | undefined;
}

export interface BotHostOptions {
  spec: BotLaunchSpec;
  strategies: Strategies;
  orders: OrderActions;
  market: MarketSource;
  clock: Clock;
  createExecutor: ExecutorFactory;
  /** Publishes one event on `hbot/<id>/events` at QoS 1; resolves once the broker has it. */
  publishEvent: (event: Record<string, unknown>) => Promise<void>;
  /** Milliseconds between two steps (default 1000). */
  stepMs?: number;
  /** Where the host keeps its state between processes (written after every step); none: a restart starts afresh. */
  state?: { load(): Promise<unknown>; save(state: unknown): Promise<void> };
  /** Rebuilds an executor from its state(), to resume saved runs. */
  restoreExecutor?: (state: Record<string, unknown>) => Executor;
  log?: (level: 'info' | 'warning' | 'error', msg: string) => void;
}

/** A fill as the bot keeps it (history) and reports it (events): decimals as strings. */
export interface BotFillEvent {
  event_id: string;
  fill_id: string;
  client_order_id: string;
  connector_name: string;
  trading_pair: string;
  side: 'buy' | 'sell';
  price: string;
  amount: string;
  fee: string;
  fee_asset: string;
  is_maker: boolean;
  timestamp: number;
}

/** What the state file holds. */
interface SavedHost {
  version: 1;
  bot_id: string;
  epoch: string;
  running: boolean;
  runs: Record<string, ControllerRunState | ScriptRunState>;
  unsent: BotFillEvent[];
  fills: BotFillEvent[];
  /** The quote volume of every fill the bot ever made (its fills list keeps only the latest). */
  fill_volume?: string;
}

/** Fills the state file keeps for the history RPC. */
const FILLS_SAVED = 1_000;

/** Fills kept for the history RPC; older ones are in the server's bot_fills. */
const HISTORY_KEPT = 10_000;
/**
 * Ended executors a controller run keeps one by one (in its status and state file); older ones are
 * summed. Enough for any controller's look back (cooldowns read the latest closes).
 */
export const KEEP_ENDED_EXECUTORS = 200;

/** Steps a stop waits for executors to end (their cancels and closes answered). */
const STOP_STEPS = 20;
const STOP_STEP_MS = 250;

type Run = { kind: 'controller'; id: string; run: ControllerRun } | { kind: 'script'; id: string; run: ScriptRun };

/**
 * What a bot process runs: the launch spec's controllers (one ControllerRun each, as the server runs
 * one) or its script, stepped on a timer, one step at a time; every order goes out through `orders`
 * (RPCs to the server). It keeps the fills it sees for the history RPC and reports each once on the
 * events topic with an id of its own (order id and the fill's place among the order's fills), so the
 * server stores a redelivered event once.
 */
export class BotHost implements StrategyHost {
  #strategy: BotStrategy;
  #runs: Run[] = [];
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  /** Set once the host stopped stepping for good without stopping its strategy (see suspend()). */
  #suspended = false;
  /** A flatten after a restart left executors open: saved as running (the next process flattens again), and a start flattens first. */
  #flattenPending = false;
  #stepping: Promise<void> = Promise.resolve();
  readonly #fills: BotFillEvent[] = [];
  /** Quote volume of all its fills, including those no longer kept in #fills (a script's volume_traded). */
  #fillVolume = new Decimal(0);
  readonly #unsent: BotFillEvent[] = [];
  readonly #principal: ExecutorPrincipal;
  #lastError = '';
  #epoch = '';

  constructor(private readonly o: BotHostOptions) {
    this.#strategy = structuredClone(o.spec.strategy);
    this.#principal = { name: `bot:${o.spec.bot_id}`, role: 'trader', accounts: [o.spec.account], stored: false, channel: 'bot' };
    BotHost.check(this.#strategy, o.strategies);
  }

  /** Throws (NOT_FOUND, VALIDATION_FAILED) when `strategy` names a strategy not here or a config its schema refuses. */
  static check(strategy: BotStrategy, strategies: Strategies): void {
    if ('script' in strategy) {
      const def = strategies.script(strategy.script.name);
      if (!def) throw new AppError('NOT_FOUND', `This bot has no script named ${strategy.script.name}.`, { details: { script_name: strategy.script.name } });
      parseStrategyConfig(def, strategy.script.config);
      return;
    }
    if (strategy.controllers.length === 0) throw new AppError('VALIDATION_FAILED', 'The strategy names no controller.', { details: { issues: [{ path: 'controllers', message: 'name at least one' }] } });
    for (const c of strategy.controllers) {
      const def = strategies.controller(c.controller_name);
      if (!def) throw new AppError('NOT_FOUND', `This bot has no controller named ${c.controller_name}.`, { details: { controller_name: c.controller_name } });
      parseStrategyConfig(def, c.config);
    }
  }

  /** Ids of the controllers (their name, numbered when one runs twice), in the spec's order. */
  #controllerIds(): string[] {
    if (!('controllers' in this.#strategy)) return [];
    const names = this.#strategy.controllers.map((c) => c.controller_name);
    return names.map((n, i) => (names.indexOf(n) === names.lastIndexOf(n) ? n : `${n}_${i + 1}`));
  }

  /** The runs of the strategy: resumed from `saved` when given (same ids), else new. */
  #build(saved: SavedHost | null): Run[] {
    // A new run id per start: its order ids derive from it, and must never repeat an earlier start's.
    this.#epoch = saved?.epoch ?? this.o.clock.now().toString(36);
    const epoch = this.#epoch;
    const onFill = (f: RunFill) => this.#onFill(f);
    const base = { accountName: this.o.spec.account, principal: this.#principal, onFill };
    const deps = { orders: this.o.orders, market: this.o.market, clock: this.o.clock, createExecutor: this.o.createExecutor, restoreExecutor: this.o.restoreExecutor };
    if ('script' in this.#strategy) {
      const { name, config } = this.#strategy.script;
      const def = this.o.strategies.script(name)!;
      const state = saved?.runs[name] as ScriptRunState | undefined;
      return [{ kind: 'script', id: name, run: new ScriptRun(deps, { ...base, id: `${this.o.spec.bot_id}.${epoch}.${name}`, script: def, config, saved: state }) }];
    }
    const ids = this.#controllerIds();
    return this.#strategy.controllers.flatMap((c, i) => {
      const def = this.o.strategies.controller(c.controller_name)!;
      const id = ids[i]!;
      const state = saved?.runs[id] as ControllerRunState | undefined;
      return [{ kind: 'controller' as const, id, run: new ControllerRun(deps, { ...base, id: `${this.o.spec.bot_id}.${epoch}.${id}`, controller: def, config: c.config, saved: state, keepEnded: KEEP_ENDED_EXECUTORS }) }];
    });
  }

  /**
   * Reads the state a previous process of this bot left. When it was running the same strategy (the
   * same controllers or script), the launch spec's `on_restart` says what happens to it: `resume`
   * carries its executors on at once with their barriers and working orders; `flatten` rebuilds them
   * only to stop them, positions closed at market and orders cancelled, and leaves the host stopped.
   * Either way fills not yet reported are reported. Returns what it did: `resumed`, `flattened`,
   * `unflattened` (executors still open when the flatten gave up: the caller must not start new ones
   * on top), or `none` (nothing to resume: the caller starts afresh as `autostart` says).
   */
  async resume(): Promise<'resumed' | 'flattened' | 'unflattened' | 'none'> {
    const raw = (await this.o.state?.load()) as SavedHost | null | undefined;
    if (!raw || raw.version !== 1 || raw.bot_id !== this.o.spec.bot_id) return 'none';
    this.#fills.push(...raw.fills);
    this.#fillVolume = raw.fill_volume !== undefined ? new Decimal(raw.fill_volume) : raw.fills.reduce((v, f) => v.plus(new Decimal(f.price).times(f.amount)), new Decimal(0));
    this.#unsent.push(...raw.unsent);
    const ids = 'script' in this.#strategy ? [this.#strategy.script.name] : this.#controllerIds();
    const same = ids.length === Object.keys(raw.runs).length && ids.every((id) => id in raw.runs);
    if (!raw.running || !same) return 'none';
    this.#runs = this.#build(raw);
    if (this.o.spec.on_restart === 'flatten') return (await this.#flatten()) ? 'flattened' : 'unflattened';
    this.#running = true;
    // One step before anyone asks: the executors then report as of now.
    this.#stepping = this.step();
    await this.#stepping;
    this.#schedule(this.o.stepMs ?? 1000);
    return 'resumed';
  }

  /**
   * Ends the rebuilt runs of a restarted process as its config asks (`on_restart: flatten`): every
   * executor stopped with its position closed at market and its working orders cancelled (a script's
   * orders cancelled), followed until they end or the stop's steps run out, their fills reported, and
   * the state saved as stopped (as running while some are still open, so that the next process, or a
   * start, flattens again). Returns whether every executor ended.
   */
  async #flatten(): Promise<boolean> {
    // A step without the controller first: the executors learn what their orders did while no process
    // ran, and report what they hold now.
    for (const r of this.#runs) if (r.kind === 'controller') await r.run.step({ decide: false }).catch((err) => this.#report(err));
    const before = this.#openExecutors();
    const holding = this.#runs.reduce((n, r) => n + (r.kind === 'controller' ? r.run.reports().filter((x) => x.status !== 'terminated' && !x.positionAmount.isZero()).length : 0), 0);
    await this.#wind(false);
    await this.#sendEvents();
    const left = this.#openExecutors();
    this.#flattenPending = left > 0;
    await this.#persist();
    if (left > 0) {
      const why = this.#lastError ? ` (${this.#lastError.replace(/\.$/, '')})` : '';
      this.o.log?.('error', `flatten after a restart incomplete: ${left} of ${before} executors still open${why}; not starting new ones: see the account's open orders and positions, then start the bot again`);
      return false;
    }
    this.o.log?.('info', `flattened after a restart: ${before} ${before === 1 ? 'executor' : 'executors'} stopped (${holding} with a position, closed at market; working orders cancelled)`);
    return true;
  }

  /** Executors not yet ended (a script's working orders). */
  #openExecutors(): number {
    return this.#runs.reduce((n, r) => n + (r.kind === 'controller' ? r.run.activeCount : r.run.workingCount), 0);
  }

  /** Whether a next process could resume it: it keeps its state in a state dir. */
  resumable(): boolean {
    return !!this.o.state;
  }

  /** Writes the state after a step; a failed write is said, and tried again after the next step. */
  async #persist(running = this.#running || this.#flattenPending): Promise<void> {
    if (!this.o.state) return;
    const saved: SavedHost = {
      version: 1,
      bot_id: this.o.spec.bot_id,
      epoch: this.#epoch,
      running,
      runs: Object.fromEntries(this.#runs.map((r) => [r.id, r.run.state()])),
      unsent: this.#unsent,
      fills: this.#fills.slice(-FILLS_SAVED),
      fill_volume: this.#fillVolume.toString(),
    };
    await this.o.state.save(saved).catch((err) => this.#report(err));
  }

  #describe(): string {
    if ('script' in this.#strategy) return `script ${this.#strategy.script.name}`;
    return this.#strategy.controllers.map((c) => c.controller_name).join(', ');
  }

  running(): boolean {
    return this.#running;
  }

  async start(): Promise<string> {
    if (this.#running) return this.#describe();
    if (this.#flattenPending && !(await this.#flatten())) {
      throw new AppError('PRECONDITION_FAILED', 'Executors from before the restart are still open: their positions could not all be closed, so no new ones start.', {
        hint: "Check the account's open orders and positions (the bot's log says what is left), then start it again.",
      });
    }
    this.#runs = this.#build(null);
    this.#running = true;
    await this.#persist();
    this.#schedule(0);
    return `${this.#describe()} on ${this.o.spec.account}`;
  }

  async stop(opts: { skipOrderCancellation: boolean }): Promise<string> {
    if (!this.#running) return `${this.#describe()} is not running`;
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#stepping;
    if (!opts.skipOrderCancellation) await this.#wind(true);
    await this.#sendEvents();
    await this.#persist();
    const active = this.#openExecutors();
    return `${this.#describe()} stopped, ${active} ${active === 1 ? 'executor' : 'executors'} active`;
  }

  /**
   * Stops stepping without stopping the strategy, for a process that is going away while its strategy
   * should carry on in the next one (its server restarting or dead, `docker stop`, the host shutting
   * down: not a stop, which comes as the stop request and cancels its orders): the step in flight is given
   * `waitMs` to end, then the state is saved as running, so that the next process resumes the executors
   * and their orders instead of starting afresh. A step still hanging then (its RPC waiting on the dead
   * server) is left: the state saved after the last whole step stands, as after a kill. Returns whether
   * the state was saved now.
   */
  async suspend(waitMs: number): Promise<boolean> {
    this.#suspended = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([this.#stepping.then(() => true, () => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), waitMs)))]);
    clearTimeout(timer);
    if (!ended) return false;
    await this.#persist();
    return true;
  }

  /**
   * Stops every executor (orders cancelled; positions kept, or closed at market when not
   * `keepPosition`) and follows them until they end or the steps run out.
   */
  async #wind(keepPosition: boolean): Promise<void> {
    for (const r of this.#runs) {
      try {
        if (r.kind === 'controller') await r.run.stopExecutors(keepPosition);
        else await r.run.cancelAll();
      } catch (err) {
        this.#report(err);
      }
    }
    for (let i = 0; i < STOP_STEPS; i++) {
      const left = this.#runs.filter((r) => r.kind === 'controller' && r.run.activeCount > 0);
      if (left.length === 0) return;
      await new Promise((r) => setTimeout(r, STOP_STEP_MS));
      for (const r of left) await (r.run as ControllerRun).step({ decide: false }).catch((err) => this.#report(err));
    }
  }

  #schedule(ms: number): void {
    if (!this.#running || this.#suspended) return;
    this.#timer = setTimeout(() => {
      this.#stepping = this.step().finally(() => this.#schedule(this.o.stepMs ?? 1000));
    }, ms);
  }

  /** One step of every run, then the fills seen sent as events. A failed step is logged and tried again at the next. */
  async step(): Promise<void> {
    for (const r of this.#runs) {
      try {
        await r.run.step();
      } catch (err) {
        this.#report(err);
      }
    }
    await this.#sendEvents();
    await this.#persist();
  }

  #report(err: unknown): void {
    const msg = toAppError(err).message;
    // The same failure every second is said once, until something else happens.
    if (msg === this.#lastError) return;
    this.#lastError = msg;
    this.o.log?.('warning', `step failed: ${msg}`);
  }

  #onFill(f: RunFill): void {
    const id = `${this.o.spec.bot_id}:${f.clientOrderId}:${f.index}`;
    const event: BotFillEvent = {
      event_id: id,
      fill_id: id,
      client_order_id: f.clientOrderId,
      connector_name: f.connector,
      trading_pair: f.tradingPair,
      side: f.side,
      price: f.price.toString(),
      amount: f.amount.toString(),
      fee: f.fee.toString(),
      fee_asset: f.tradingPair.split('-')[1] ?? '',
      is_maker: f.isMaker,
      timestamp: f.timestamp,
    };
    this.#fills.push(event);
    this.#fillVolume = this.#fillVolume.plus(f.price.times(f.amount));
    if (this.#fills.length > HISTORY_KEPT) this.#fills.shift();
    this.#unsent.push(event);
  }

  /** Publishes the fills not yet acknowledged by the broker, oldest first; what fails waits for the next step. */
  async #sendEvents(): Promise<void> {
    while (this.#unsent.length > 0) {
      const e = this.#unsent[0]!;
      try {
        await this.o.publishEvent({ event_id: e.event_id, timestamp: e.timestamp, type: 'order_filled', data: e });
      } catch {
        return;
      }
      this.#unsent.shift();
    }
  }

  status(): Record<string, unknown> {
    const runs = this.#runs.map((r) => {
      if (r.kind === 'script') return { id: r.id, script_name: r.run.scriptName, done: r.run.done, working_orders: r.run.workingCount, errors: r.run.errors };
      const reports = r.run.reports();
      const p = r.run.prunedTotals();
      return {
        id: r.id,
        controller_name: r.run.controllerName,
        active_executors: r.run.activeCount,
        executors: reports.map((x) => ({ id: x.id, type: x.type, connector_name: x.connector, trading_pair: x.tradingPair, ...reportJson(x) })),
        // The oldest ended executors, no longer listed one by one: their sum.
        ...(p.count > 0 ? { earlier_executors: { count: p.count, realized_pnl_quote: p.realizedPnl.toString(), net_pnl_quote: p.netPnl.toString(), volume_traded: p.volume.toString(), fees_quote: p.fees.toString(), close_type_counts: p.closeTypes } } : {}),
        errors: r.run.errors,
      };
    });
    return { strategy: this.#describe(), account: this.o.spec.account, running: this.#running, runs, pnl: this.#totals() };
  }

  /** PnL over every executor (a script's: its traded volume only). */
  #totals(): Record<string, string> {
    let realized = new Decimal(0);
    let unrealized = new Decimal(0);
    let net = new Decimal(0);
    let volume = new Decimal(0);
    for (const r of this.#runs) {
      if (r.kind !== 'controller') continue;
      const p = r.run.prunedTotals();
      realized = realized.plus(p.realizedPnl);
      net = net.plus(p.netPnl);
      volume = volume.plus(p.volume);
      for (const x of r.run.reports()) {
        realized = realized.plus(x.realizedPnl);
        unrealized = unrealized.plus(x.unrealizedPnl);
        net = net.plus(x.netPnl);
        volume = volume.plus(x.volume);
      }
    }
    if (this.#runs.some((r) => r.kind === 'script')) volume = volume.plus(this.#fillVolume);
    return { realized_pnl_quote: realized.toString(), unrealized_pnl_quote: unrealized.toString(), global_pnl_quote: net.toString(), volume_traded: volume.toString() };
  }

  /**
   * The running config: one controller's or the script's config as it is; several controllers' keyed
   * by controller id.
   */
  config(): Record<string, unknown> {
    if ('script' in this.#strategy) return { ...this.#strategy.script.config };
    const ids = this.#controllerIds();
    if (ids.length === 1) return { ...this.#strategy.controllers[0]!.config };
    return Object.fromEntries(this.#strategy.controllers.map((c, i) => [ids[i]!, { ...c.config }]));
  }

  /**
   * Applies [key, value] changes: `field` for the one controller or the script, `<controller id>.field`
   * when several run. Every changed config is validated with its strategy's schema before any is
   * applied; a bad one changes nothing (VALIDATION_FAILED with the keys' paths).
   */
  async setConfig(changes: ReadonlyArray<readonly [string, unknown]>): Promise<Record<string, unknown>> {
    const next = structuredClone(this.#strategy);
    const targets: Array<Record<string, unknown>> = 'script' in next ? [next.script.config] : next.controllers.map((c) => c.config);
    const ids = 'script' in next ? [next.script.name] : this.#controllerIds();
    for (const [key, value] of changes) {
      const dot = key.indexOf('.');
      const byId = dot > 0 ? ids.indexOf(key.slice(0, dot)) : -1;
      if (byId < 0 && targets.length > 1) {
        throw new AppError('VALIDATION_FAILED', `Several controllers run: name the one to change as <controller id>.${key} (ids: ${ids.join(', ')}).`, { details: { issues: [{ path: key, message: 'names no controller' }] } });
      }
      const target = targets[byId < 0 ? 0 : byId]!;
      target[byId < 0 ? key : key.slice(dot + 1)] = value;
    }
    const issues: Array<{ path: string; message: string }> = [];
    targets.forEach((config, i) => {
      try {
        if ('script' in next) parseStrategyConfig(this.o.strategies.script(next.script.name)!, config);
        else parseStrategyConfig(this.o.strategies.controller(next.controllers[i]!.controller_name)!, config);
      } catch (err) {
        const e = toAppError(err);
        const found = (e.details?.issues as Array<{ path: string; message: string }> | undefined) ?? [{ path: '', message: e.message }];
        issues.push(...found.map((x) => ({ path: targets.length > 1 ? `${ids[i]}.${x.path}` : x.path, message: x.message })));
      }
    });
    if (issues.length) throw new AppError('VALIDATION_FAILED', `Invalid config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { details: { issues } });
    for (let i = 0; i < this.#runs.length; i++) await this.#runs[i]!.run.reconfigure(targets[i]);
    this.#strategy = next;
    return this.config();
  }

  history(days: number): Array<Record<string, unknown>> {
    const since = days > 0 ? this.o.clock.now() - days * 86_400_000 : -Infinity;
    return this.#fills.filter((f) => f.timestamp >= since).map((f) => ({ ...f, trade_id: f.fill_id }));
  }

  performance(): Performance {
    const out: Performance = {};
    for (const r of this.#runs) {
      if (r.kind === 'script') {
        const volume = this.#fillVolume;
        out[r.id] = { performance: { volume_traded: volume.toString() }, custom_info: { done: r.run.done } };
        continue;
      }
      // The executors no longer kept one by one count as their sum.
      const p = r.run.prunedTotals();
      let realized = p.realizedPnl;
      let unrealized = new Decimal(0);
      let net = p.netPnl;
      let volume = p.volume;
      const closeTypes: Record<string, number> = { ...p.closeTypes };
      const positions: Array<Record<string, unknown>> = [];
      for (const x of r.run.reports()) {
        realized = realized.plus(x.realizedPnl);
        unrealized = unrealized.plus(x.unrealizedPnl);
        net = net.plus(x.netPnl);
        volume = volume.plus(x.volume);
        if (x.closeType) closeTypes[x.closeType] = (closeTypes[x.closeType] ?? 0) + 1;
        if (!x.positionAmount.isZero()) positions.push({ connector_name: x.connector, trading_pair: x.tradingPair, side: x.side, amount: x.positionAmount.toString(), entry_price: x.entryPrice?.toString() ?? null });
      }
      out[r.id] = {
        performance: {
          realized_pnl_quote: realized.toString(),
          unrealized_pnl_quote: unrealized.toString(),
          global_pnl_quote: net.toString(),
          global_pnl_pct: percentOf(net, volume),
          volume_traded: volume.toString(),
          positions_summary: positions,
          close_type_counts: closeTypes,
        },
        custom_info: { active_executors: r.run.activeCount },
      };
    }
    return out;
  }
}

/**
 * `part` as a percentage of `whole`, to 8 decimal places: a quotient carries the decimal context's 60
 * digits, more than a report's figure may hold (and more than any reader needs).
 */
export function percentOf(part: Decimal, whole: Decimal): string {
  return whole.isZero() ? '0' : part.div(whole).times(100).toDecimalPlaces(8).toString();
}
