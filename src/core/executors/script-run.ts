import type { ExecutorPrincipal, ExecutorRuntime, OutboxEntry } from '../db/schema/index.js';
import type { Decimal } from '../decimal.js';
import type { ScriptDefinition, ScriptInstance, ScriptView } from '../strategy/script.js';
import type { OrderSink, OrderUpdate, Side } from '../strategy/types.js';
import { parseStrategyConfig } from '../strategy/config-issues.js';
import { orderIdPrefix } from './client-order-ids.js';
import type { ControllerRunDeps, RunFill } from './controller-run.js';
import { LiveMarketView } from './live-market.js';
import { OrderPath, type OrderSender } from './order-path.js';

export interface StartScriptRun {
  id: string;
  accountName: string;
  script: ScriptDefinition;
  config: unknown;
  principal: ExecutorPrincipal;
  onFill?: (fill: RunFill) => void;
  /** Total holdings per asset on a connector, when the driver can read them; without, a script sees none. */
  balances?: (connector: string) => Readonly<Record<string, Decimal>>;
  /** Resume from this `state()`. */
  saved?: ScriptRunState;
}

export interface ScriptRunState {
  script: Record<string, unknown>;
  orderSeq: number;
  /** null: due at the next step. */
  nextAt: number | null;
  outbox: OutboxEntry[];
  path: ExecutorRuntime;
  placed: Record<string, { connector: string; pair: string; side: Side; fills: number }>;
}

/**
 * One script on the order path (script.ts has the contract): each step delivers what changed on its
 * working orders, and every `stepSeconds` asks the script for actions, queued on the run's outbox and
 * sent through the order path within the step. Steps never overlap. Once the script says it is done,
 * steps only follow its last orders.
 */
export class ScriptRun {
  readonly id: string;
  readonly #def: ScriptDefinition;
  #config: unknown;
  #instance: ScriptInstance;
  readonly #view: LiveMarketView;
  readonly #path: OrderPath;
  readonly #sender: OrderSender;
  readonly #sink: OrderSink;
  #pairs: Array<{ connector: string; pair: string }> = [];
  #stepMs = 60_000;
  #nextAt = -Infinity;
  #orderSeq = 0;
  readonly #prefix: string;
  readonly #placed = new Map<string, { connector: string; pair: string; side: Side; fills: number }>();
  #busy: Promise<void> = Promise.resolve();

  constructor(
    deps: Pick<ControllerRunDeps, 'orders' | 'market' | 'clock'>,
    private readonly req: StartScriptRun,
  ) {
    this.#def = req.script;
    this.#config = parseStrategyConfig(this.#def, req.config);
    this.id = req.id;
    this.#prefix = orderIdPrefix(`script:${req.id}`);
    this.#view = new LiveMarketView(deps.market, deps.clock);
    this.#watch(this.#config);
    const saved = req.saved;
    this.#instance = this.#def.create(this.#config, saved?.script);
    const runtime: ExecutorRuntime = saved ? structuredClone(saved.path) : { order_seq: 0, fills_seen: {}, last_seen: {}, error_count: 0, last_error: null };
    this.#sender = { kind: 'bot', id: req.id, account: req.accountName, principal: req.principal, outbox: saved ? structuredClone(saved.outbox) : [], runtime };
    if (saved) {
      this.#orderSeq = saved.orderSeq;
      this.#nextAt = saved.nextAt ?? -Infinity;
      for (const [k, v] of Object.entries(saved.placed)) this.#placed.set(k, { ...v });
    }
    this.#path = new OrderPath(deps.orders);
    const queue = this.#path.sink(this.#sender);
    this.#sink = {
      submit: (o) => {
        this.#placed.set(o.clientOrderId, { connector: o.connector, pair: o.tradingPair, side: o.side, fills: 0 });
        queue.submit(o);
      },
      cancel: (connector, pair, id) => queue.cancel(connector, pair, id),
    };
  }

  #watch(config: unknown): void {
    const needs = this.#def.data(config);
    for (const c of needs.candles) this.#view.watch(c.connector, c.tradingPair, c.interval, c.bars);
    this.#pairs = [...new Map(needs.quotes.map((q) => [`${q.connector}|${q.tradingPair}`, { connector: q.connector, pair: q.tradingPair }])).values()];
    this.#stepMs = Math.max(1, this.#def.stepSeconds(config)) * 1000;
  }

  /** What the run resumes from; taken between steps. */
  state(): ScriptRunState {
    return {
      script: this.#instance.state(),
      orderSeq: this.#orderSeq,
      nextAt: Number.isFinite(this.#nextAt) ? this.#nextAt : null,
      outbox: structuredClone(this.#sender.outbox),
      path: structuredClone(this.#sender.runtime),
      placed: Object.fromEntries([...this.#placed].map(([k, v]) => [k, { ...v }])),
    };
  }

  get scriptName(): string {
    return this.#def.name;
  }

  get config(): unknown {
    return this.#config;
  }

  get done(): boolean {
    return this.#instance.done();
  }

  /** Orders placed and not seen final. */
  get workingCount(): number {
    return this.#placed.size;
  }

  get errors(): { count: number; last: string | null } {
    return { count: this.#sender.runtime.error_count, last: this.#sender.runtime.last_error };
  }

  /** One step at the clock's now; the script itself is asked only when its interval has passed and it is not done. */
  step(): Promise<void> {
    return this.#exclusive(async () => {
      const now = await this.#load();
      if (this.#instance.done() || now < this.#nextAt) return;
      this.#nextAt = now + this.#stepMs;
      const view: ScriptView = {
        now,
        market: this.#view,
        balances: (c) => this.req.balances?.(c) ?? {},
        newOrderId: () => `${this.#prefix}o${++this.#orderSeq}`,
      };
      for (const a of this.#instance.step(view)) {
        if (a.kind === 'place') this.#sink.submit(a.order);
        else this.#sink.cancel(a.connector, a.tradingPair, a.clientOrderId);
      }
      await this.#path.flush(this.#sender, now, (u) => this.#deliver(u));
    });
  }

  /** Cancels every working order (the script is being stopped). */
  cancelAll(): Promise<void> {
    return this.#exclusive(async () => {
      const now = await this.#load();
      for (const [id, p] of this.#placed) this.#sink.cancel(p.connector, p.pair, id);
      await this.#path.flush(this.#sender, now, (u) => this.#deliver(u));
    });
  }

  /** Validates `config` and carries on with it: the script is rebuilt from its state under the new config. */
  reconfigure(config: unknown): Promise<void> {
    const parsed = parseStrategyConfig(this.#def, config);
    return this.#exclusive(async () => {
      const state = this.#instance.state();
      this.#watch(parsed);
      this.#instance = this.#def.create(parsed, state);
      this.#config = parsed;
      this.#nextAt = -Infinity;
    });
  }

  async #load(): Promise<number> {
    await this.#view.load(this.#pairs);
    const now = this.#view.now;
    await this.#path.poll(this.#sender, [...this.#placed.keys()], now, (u) => this.#deliver(u));
    return now;
  }

  #deliver(u: OrderUpdate): void {
    const placed = this.#placed.get(u.clientOrderId);
    if (placed) {
      for (const f of u.newFills) {
        this.req.onFill?.({ clientOrderId: u.clientOrderId, index: placed.fills++, connector: placed.connector, tradingPair: placed.pair, side: placed.side, price: f.price, amount: f.amount, fee: f.fee, isMaker: f.isMaker, timestamp: f.timestamp });
      }
      if (u.state === 'filled' || u.state === 'canceled' || u.state === 'rejected') this.#placed.delete(u.clientOrderId);
    }
    this.#instance.onOrderUpdate(u);
  }

  #exclusive(fn: () => Promise<void>): Promise<void> {
    const next = this.#busy.then(fn);
    this.#busy = next.catch(() => undefined);
    return next;
  }
}
