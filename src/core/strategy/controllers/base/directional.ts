import { z } from 'zod';
import { Decimal } from '../../../decimal.js';
import type { PositionExecutorConfig, TripleBarrier } from '../../executors/configs.js';
import type { ControllerView, ExecutorAction, Side } from '../../types.js';
import { type BarrierConfig, baseAmount, isActive, tripleBarrier } from './executors.js';
import { barrierFields, cooldownTime, leverage, marketFields, totalAmountQuote } from './fields.js';

/**
 * What every directional controller shares (the original's directional_trading base): a signal of +1
 * (long), -1 (short) or 0 becomes one position executor with a triple barrier, opened at market, when
 * that side has fewer than `max_executors_per_side` active executors and the newest of them is older
 * than `cooldown_time`. Each executor gets total_amount_quote / max_executors_per_side of quote.
 */
export const directionalFields = {
  ...marketFields,
  total_amount_quote: totalAmountQuote('100'),
  max_executors_per_side: z.number().int().min(1).max(100).default(2).describe('Most executors open at once on one side (long or short).'),
  cooldown_time: cooldownTime(300, 'Seconds after the newest active executor on a side was created before another may open on that side.'),
  leverage: leverage(20),
  ...barrierFields({
    stop_loss: 0.03,
    take_profit: 0.02,
    time_limit: 2700,
    take_profit_order_type: 'limit',
    trailing_stop: { activation_price: 0.015, trailing_delta: 0.003 },
  }),
};

export interface DirectionalConfig extends BarrierConfig {
  connector_name: string;
  trading_pair: string;
  total_amount_quote: string;
  max_executors_per_side: number;
  cooldown_time: number;
  leverage: number;
}

/** No action: one shared, frozen list (most candles give no signal; the runtime only reads the list). */
const NONE = Object.freeze([]) as unknown as ExecutorAction[];

export class DirectionalTrader {
  private readonly perExecutorQuote: Decimal;
  private readonly cooldownMs: number;
  private readonly barrier: TripleBarrier;

  constructor(private readonly c: DirectionalConfig) {
    this.perExecutorQuote = new Decimal(c.total_amount_quote).div(c.max_executors_per_side);
    this.cooldownMs = c.cooldown_time * 1000;
    this.barrier = tripleBarrier(c, 'market');
  }

  /** The actions for a signal: at most one create, on the signal's side. */
  actions(view: ControllerView, signal: number): ExecutorAction[] {
    if (signal === 0) return NONE;
    const side: Side = signal > 0 ? 'buy' : 'sell';
    if (!this.canCreate(view, side)) return NONE;
    const quote = view.market.quote(this.c.connector_name, this.c.trading_pair);
    if (quote === null || !quote.mid.gt(0)) return NONE;
    const config: PositionExecutorConfig = {
      type: 'position',
      id: view.newExecutorId(),
      connector_name: this.c.connector_name,
      trading_pair: this.c.trading_pair,
      leverage: this.c.leverage,
      side,
      amount: baseAmount(this.perExecutorQuote, quote.mid),
      triple_barrier: this.barrier,
    };
    return [{ kind: 'create', config }];
  }

  private canCreate(view: ControllerView, side: Side): boolean {
    let active = 0;
    let newest = -Infinity;
    for (const r of view.activeExecutors) {
      if (r.side !== side || !isActive(r)) continue;
      active++;
      if (r.createdAt > newest) newest = r.createdAt;
    }
    return active < this.c.max_executors_per_side && view.now - newest > this.cooldownMs;
  }
}
