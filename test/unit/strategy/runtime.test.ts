import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/decimal.js';
import type { ExecutorConfig } from '../../../src/core/strategy/executors/configs.js';
import { StrategyRuntime } from '../../../src/core/strategy/runtime.js';
import type {
  ControllerView,
  Executor,
  ExecutorAction,
  ExecutorContext,
  ExecutorReport,
  ExecutorStatus,
  IdleBand,
  MarketView,
  OrderRequest,
  OrderUpdate,
} from '../../../src/core/strategy/types.js';

const Z = new Decimal(0);
const market: MarketView = { now: 0, quote: () => null, candles: () => [], rules: () => null };

/** An executor that records what reaches it, places one market order on its first tick and ends on its fill. */
class Probe implements Executor {
  readonly type = 'order' as const;
  status: ExecutorStatus = 'not_started';
  closeType: Executor['closeType'] = null;
  ticks: number[] = [];
  updates: string[] = [];
  stopped: boolean | null = null;
  band: IdleBand | null = null;
  closedAt: number | null = null;
  constructor(
    readonly config: ExecutorConfig,
    readonly id: string,
    readonly createdAt: number,
  ) {}
  tick(ctx: ExecutorContext): void {
    this.ticks.push(ctx.now);
    if (this.status === 'not_started') {
      this.status = 'active';
      ctx.sink.submit({ clientOrderId: ctx.newOrderId(), connector: 'sim', tradingPair: 'BTC-USDT', side: 'buy', type: 'market', amount: new Decimal(1) });
    }
  }
  onOrderUpdate(u: OrderUpdate): void {
    this.updates.push(`${u.clientOrderId}:${u.state}`);
    if (u.state === 'filled' && this.id !== 'keep') {
      this.status = 'terminated';
      this.closedAt = u.timestamp;
      this.closeType = 'COMPLETED';
    }
  }
  stop(ctx: ExecutorContext, keepPosition: boolean): void {
    this.stopped = keepPosition;
    this.status = 'terminated';
    this.closedAt = ctx.now;
    this.closeType = keepPosition ? 'POSITION_HOLD' : 'EARLY_STOP';
  }
  openOrderIds(): string[] {
    return [];
  }
  report(ctx: { now: number }): ExecutorReport {
    return {
      id: this.id, type: 'order', connector: 'sim', tradingPair: 'BTC-USDT', side: 'buy', status: this.status, closeType: this.closeType,
      createdAt: this.createdAt, closedAt: this.closedAt, positionAmount: Z, entryPrice: null, volume: Z, fees: Z,
      realizedPnl: Z, unrealizedPnl: Z, netPnl: Z, netPnlPct: Z, custom: { reportedAt: ctx.now },
    };
  }
  state(): Record<string, unknown> {
    return {};
  }
  idleBand(): IdleBand | null {
    return this.band;
  }
}

const orderConfig = (id?: string): ExecutorConfig => ({ type: 'order', connector_name: 'sim', trading_pair: 'BTC-USDT', leverage: 1, side: 'buy', amount: '1', execution_strategy: 'market', ...(id ? { id } : {}) });

function setup(plan: (view: ControllerView, call: number) => ExecutorAction[]) {
  const made: Probe[] = [];
  const submitted: OrderRequest[] = [];
  const calls: number[] = [];
  const views: ControllerView['executors'][] = [];
  const rt = new StrategyRuntime({
    controller: {
      update(view) {
        calls.push(view.now);
        views.push(view.executors);
        return plan(view, calls.length);
      },
    },
    interval: '5m',
    createExecutor: (config, id, at) => {
      const p = new Probe(config, id, at);
      made.push(p);
      return p;
    },
    idPrefix: 'bt-',
  });
  const sink = { submit: (o: OrderRequest) => submitted.push(o), cancel: () => {} };
  const step = (now: number, price?: number) => rt.step({ now, market, sink, ...(price === undefined ? {} : { price }) });
  return { rt, made, submitted, calls, views, step };
}

const fill = (id: string, now: number): OrderUpdate => ({ clientOrderId: id, state: 'filled', filled: new Decimal(1), averagePrice: new Decimal(1), fees: Z, newFills: [], timestamp: now });

describe('StrategyRuntime', () => {
  it('runs the controller once per closed candle of its interval, whatever the step times', () => {
    const { calls, step } = setup(() => []);
    // 5m candles close at 300 s, 600 s, 900 s; steps every 70 s from 10 s: the first step at or after each
    for (let t = 10_000; t < 1_000_000; t += 70_000) step(t);
    expect(calls).toEqual([10_000, 360_000, 640_000, 920_000]);
  });

  it('creates executors through the factory with deterministic ids and ticks them from the next step', () => {
    const { made, submitted, step } = setup((_v, n) => (n === 1 ? [{ kind: 'create', config: orderConfig() }, { kind: 'create', config: orderConfig('mine') }] : []));
    step(0);
    expect(made.map((p) => [p.id, p.createdAt, p.ticks.length])).toEqual([
      ['bt-e1', 0, 0],
      ['mine', 0, 0],
    ]);
    step(1000);
    expect(made.map((p) => p.ticks)).toEqual([[1000], [1000]]);
    expect(submitted.map((o) => o.clientOrderId)).toEqual(['bt-o1', 'bt-o2']);
  });

  it('never gives two executors one id: a taken id is skipped when handing out, and refused when given', () => {
    const { made, step } = setup((view, n) => {
      if (n === 1) return [{ kind: 'create', config: orderConfig('bt-e2') }, { kind: 'create', config: orderConfig() }, { kind: 'create', config: orderConfig() }];
      if (n === 2) {
        // A handed-out id used once, then given again; one taken earlier; one handed out and given.
        const id = view.newExecutorId();
        return [{ kind: 'create', config: orderConfig('bt-e1') }, { kind: 'create', config: orderConfig(id) }, { kind: 'create', config: orderConfig(id) }, { kind: 'create', config: orderConfig('bt-e2') }];
      }
      return [];
    });
    step(0);
    expect(made.map((p) => p.id)).toEqual(['bt-e2', 'bt-e1', 'bt-e3']);
    step(300_000);
    expect(made.map((p) => p.id)).toEqual(['bt-e2', 'bt-e1', 'bt-e3', 'bt-e4']);
  });

  it('routes each order update to the executor that placed the order, and retires ended executors', () => {
    const { rt, made, step, views } = setup((_v, n) => (n === 1 ? [{ kind: 'create', config: orderConfig() }, { kind: 'create', config: orderConfig('keep') }] : []));
    step(0);
    step(1000);
    rt.deliver(fill('bt-o2', 1500));
    rt.deliver(fill('bt-o1', 1500));
    rt.deliver(fill('unknown', 1500));
    expect(rt.ownerOf('bt-o1')).toBe('bt-e1');
    step(2000);
    expect(made[0]!.updates).toEqual(['bt-o1:filled']);
    expect(made[1]!.updates).toEqual(['bt-o2:filled']);
    expect(rt.ownerOf('bt-o1')).toBeUndefined();
    expect(rt.activeCount).toBe(1);
    // the ended one is ticked no more; its final report stays in the view
    step(3000);
    expect(made[0]!.ticks).toEqual([1000]);
    step(300_000);
    const seen = views.at(-1)!;
    expect(seen).toBe(views[0]);
    // an ended executor's report is built when first read, then kept; an active one's is as of the step
    expect(seen.map((r) => [r.id, r.status, r.closedAt, r.custom.reportedAt])).toEqual([
      ['bt-e1', 'terminated', 1500, 300_000],
      ['keep', 'active', null, 300_000],
    ]);
    step(600_000);
    expect(views.at(-1)!.map((r) => r.custom.reportedAt)).toEqual([300_000, 600_000]);
    expect(rt.allReports().map((r) => r.custom.reportedAt)).toEqual([300_000, 600_000]);
  });

  it('applies stop actions with keepPosition', () => {
    const { rt, made, step } = setup((v, n) => (n === 1 ? [{ kind: 'create', config: orderConfig('a') }] : n === 2 ? [{ kind: 'stop', executorId: 'a', keepPosition: true }, { kind: 'stop', executorId: 'gone', keepPosition: false }] : []));
    step(0);
    step(300_000);
    expect(made[0]!.stopped).toBe(true);
    expect(rt.activeCount).toBe(0);
    expect(rt.allReports().map((r) => r.closeType)).toEqual(['POSITION_HOLD']);
  });

  it('skips the tick of an executor idle at the step price, and says when a step is needed', () => {
    const { rt, made, step } = setup((_v, n) => (n === 1 ? [{ kind: 'create', config: orderConfig('keep') }] : []));
    step(0);
    step(1000, 100);
    made[0]!.band = { low: 95, high: 105, until: 50_000 };
    rt.deliver(fill('bt-o1', 1500));
    step(2000, 100);
    expect(made[0]!.ticks).toEqual([1000]);
    expect(rt.needsStep(3000, 101)).toBe(false);
    expect([rt.needsStep(3000, 95), rt.needsStep(3000, 105), rt.needsStep(50_000, 100), rt.needsStep(300_000, 100)]).toEqual([true, true, true, true]);
    step(4000, 94);
    expect(made[0]!.ticks).toEqual([1000, 4000]);
    // without a price every active executor is ticked
    step(5000);
    expect(made[0]!.ticks).toEqual([1000, 4000, 5000]);
    expect(rt.nextEdge(100, 90)).toBe(95);
    expect(rt.nextEdge(100, 110)).toBe(105);
    expect(rt.nextEdge(100, 104)).toBeNaN();
  });

  it('with a sink that answers later, routes the answers within the step, where a synchronous sink\'s are', async () => {
    const seen: string[][] = [];
    const { rt, made, submitted } = setup((v, n) => {
      seen.push(v.executors.map((r) => r.status));
      return n === 1 ? [{ kind: 'create', config: orderConfig() }] : [];
    });
    const sink = { submit: (o: OrderRequest) => submitted.push(o), cancel: () => {} };
    let sent = 0;
    let now = 0;
    // Fills what was queued since the last call, as the order path does after a round trip.
    const send = async () => {
      const fresh = submitted.slice(sent);
      sent = submitted.length;
      await Promise.resolve();
      for (const o of fresh) rt.deliver(fill(o.clientOrderId, now));
      return fresh.length > 0;
    };
    await rt.stepSettled({ now, market, sink }, send);
    now = 300_000;
    await rt.stepSettled({ now, market, sink }, send);
    // Ticked, filled and ended in the same step; the controller, due at that step, already sees it ended.
    expect(made[0]!.updates).toEqual(['bt-o1:filled']);
    expect(seen).toEqual([[], ['terminated']]);
    expect(rt.activeCount).toBe(0);
    expect(rt.workingOrderIds()).toEqual([]);
    expect(rt.allReports().map((r) => [r.status, r.closedAt])).toEqual([['terminated', 300_000]]);
  });
});

