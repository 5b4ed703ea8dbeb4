import { Decimal } from '../../src/core/decimal.js';
import type { CloseType, ControllerInstance, ExecutorAction, ExecutorReport, MarketView } from '../../src/core/strategy/types.js';

/**
 * Steps a controller instance the way a runtime does, with executors reduced to their reports: a
 * create action adds an active executor created at that step, a stop action ends it as EARLY_STOP.
 * Tests move executors along by hand (`fill`, `end`) to reach the states a controller reacts to.
 */
export class ControllerHarness<M extends MarketView & { now: number } = MarketView & { now: number }> {
  readonly executors: ExecutorReport[] = [];
  private seq = 0;

  constructor(
    readonly instance: ControllerInstance,
    readonly market: M,
  ) {}

  step(now: number): ExecutorAction[] {
    this.market.now = now;
    const actions = this.instance.update({ now, market: this.market, executors: this.executors, activeExecutors: this.executors.filter((e) => e.status !== 'terminated'), newExecutorId: () => `ex-${++this.seq}` });
    for (const a of actions) {
      if (a.kind === 'create') {
        const c = a.config;
        this.executors.push(report(c.id ?? `ex-${++this.seq}`, c.type, c.connector_name, c.trading_pair, c.side, now));
      } else {
        this.end(a.executorId, a.keepPosition ? 'POSITION_HOLD' : 'EARLY_STOP', now);
      }
    }
    return actions;
  }

  get(id: string): ExecutorReport {
    const r = this.executors.find((e) => e.id === id);
    if (r === undefined) throw new Error(`no executor ${id}`);
    return r;
  }

  /** Records a fill of `quote` volume on an executor. */
  fill(id: string, quote: string): void {
    const r = this.get(id);
    r.volume = r.volume.plus(quote);
  }

  end(id: string, closeType: CloseType, at: number): void {
    const r = this.get(id);
    r.status = 'terminated';
    r.closeType = closeType;
    r.closedAt = at;
  }

  active(): ExecutorReport[] {
    return this.executors.filter((e) => e.status !== 'terminated');
  }
}

function report(id: string, type: ExecutorReport['type'], connector: string, tradingPair: string, side: ExecutorReport['side'], createdAt: number): ExecutorReport {
  const zero = new Decimal(0);
  return {
    id,
    type,
    connector,
    tradingPair,
    side,
    status: 'active',
    closeType: null,
    createdAt,
    closedAt: null,
    positionAmount: zero,
    entryPrice: null,
    volume: zero,
    fees: zero,
    realizedPnl: zero,
    unrealizedPnl: zero,
    netPnl: zero,
    netPnlPct: zero,
    custom: {},
  };
}

/** The triple barrier the directional controllers open with at their defaults (the original's). */
export const DEFAULT_BARRIER = {
  open_order_type: 'market',
  take_profit_order_type: 'limit',
  stop_loss_order_type: 'market',
  time_limit_order_type: 'market',
  stop_loss: 0.03,
  take_profit: 0.02,
  time_limit: 2700,
  trailing_stop: { activation_price: 0.015, trailing_delta: 0.003 },
} as const;

/** The action a directional controller at its defaults takes on a signal: a sim BTC-USDT position at market. */
export const directionalCreate = (id: string, side: 'buy' | 'sell', amount: string): ExecutorAction => ({
  kind: 'create',
  config: { type: 'position', id, connector_name: 'sim', trading_pair: 'BTC-USDT', leverage: 20, side, amount, triple_barrier: { ...DEFAULT_BARRIER, trailing_stop: { ...DEFAULT_BARRIER.trailing_stop } } },
});
