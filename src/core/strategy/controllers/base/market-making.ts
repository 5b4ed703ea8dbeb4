import { z } from 'zod';
import { Decimal } from '../../../decimal.js';
import type { PositionExecutorConfig, TripleBarrier } from '../../executors/configs.js';
import type { ControllerView, ExecutorAction, ExecutorReport, Side } from '../../types.js';
import { type BarrierConfig, baseAmount, hasFills, isActive, isStoppable, roundPrice, SettledPrefix, tripleBarrier } from './executors.js';
import { barrierFields, cooldownTime, leverage, marketFields, Seconds, totalAmountQuote } from './fields.js';

/**
 * What the market-making controllers share (the original's market_making base): a ladder of levels on
 * each side, `buy_<i>` at reference × (1 − buy_spreads[i] × multiplier) and `sell_<i>` at
 * reference × (1 + sell_spreads[i] × multiplier), each held by one position executor that opens with a
 * limit order and then runs its triple barrier. A level is re-placed once its executor ended (after
 * `cooldown_time` when it stopped out); an executor whose open order has not filled within
 * `executor_refresh_time` is stopped so its level follows the price.
 */

const Weights = z.array(z.number().finite().gt(0)).min(1).max(20);

export const marketMakingFields = (spreads: { schema: z.ZodNumber; default: number[]; unit: string }) => ({
  ...marketFields,
  total_amount_quote: totalAmountQuote('100'),
  buy_spreads: z.array(spreads.schema).max(20).default(spreads.default).describe(`Distance of each buy level below the reference price, ${spreads.unit}; one executor per level.`),
  sell_spreads: z.array(spreads.schema).max(20).default(spreads.default).describe(`Distance of each sell level above the reference price, ${spreads.unit}; one executor per level.`),
  buy_amounts_pct: Weights.nullable()
    .default(null)
    .describe('Relative quote amount of each buy level, normalised together with the sell levels so all levels share total_amount_quote; null for equal amounts.'),
  sell_amounts_pct: Weights.nullable().default(null).describe('Relative quote amount of each sell level (see buy_amounts_pct); null for equal amounts.'),
  executor_refresh_time: Seconds.default(300).describe('Seconds after which a level whose open order has not filled is stopped and placed again around the current price.'),
  cooldown_time: cooldownTime(15, 'Seconds a level stays empty after its executor ended on its stop loss.'),
  leverage: leverage(20),
  ...barrierFields({ stop_loss: 0.03, take_profit: 0.02, time_limit: 2700, take_profit_order_type: 'limit', trailing_stop: null }),
});

export interface MarketMakingConfig extends BarrierConfig {
  connector_name: string;
  trading_pair: string;
  total_amount_quote: string;
  buy_spreads: number[];
  sell_spreads: number[];
  buy_amounts_pct: number[] | null;
  sell_amounts_pct: number[] | null;
  executor_refresh_time: number;
  cooldown_time: number;
  leverage: number;
}

/** Config checks the level fields need: weights match their spreads, and at least one level. */
export function checkLevels(c: MarketMakingConfig, ctx: z.RefinementCtx): void {
  if (c.buy_spreads.length + c.sell_spreads.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'give at least one buy or sell spread', path: ['buy_spreads'] });
  }
  const sides = [
    ['buy', c.buy_amounts_pct, c.buy_spreads],
    ['sell', c.sell_amounts_pct, c.sell_spreads],
  ] as const;
  for (const [side, weights, spreads] of sides) {
    if (weights !== null && weights.length !== spreads.length) {
      ctx.addIssue({ code: 'custom', message: `${side}_amounts_pct must have one weight per ${side} spread`, path: [`${side}_amounts_pct`] });
    }
  }
}

interface Level {
  id: string;
  side: Side;
  spread: number;
  quote: Decimal;
}

/** Where the ladder is centred; asked only when a level is free, so a controller may build it lazily. */
export interface ReferencePrice {
  referencePrice(): Decimal;
}

export class LevelLadder {
  readonly levels: readonly Level[];
  private readonly index = new Map<string, number>();
  /** Per level: held by a working executor (or cooling down) at this step. Reused across steps. */
  private readonly busy: Uint8Array;
  private readonly cooldownMs: number;
  private readonly refreshMs: number;
  /** Every level's executor gets this one (frozen) triple barrier. */
  private readonly barrier: TripleBarrier;
  private readonly settled = new SettledPrefix();
  private now = 0;
  /** Level index by executor id, for the executors not yet settled (parsing the id each step is the ladder's main cost). */
  private readonly levelById = new Map<string, number>();
  /** Ended, and not a stop loss still cooling its level down: nothing this ladder looks at any more. */
  private readonly isSettled = (r: ExecutorReport): boolean => {
    const settled = r.status === 'terminated' && !(r.closeType === 'STOP_LOSS' && r.closedAt !== null && this.now - r.closedAt < this.cooldownMs);
    if (settled) this.levelById.delete(r.id);
    return settled;
  };

  constructor(private readonly c: MarketMakingConfig) {
    const buyW = c.buy_amounts_pct ?? c.buy_spreads.map(() => 1);
    const sellW = c.sell_amounts_pct ?? c.sell_spreads.map(() => 1);
    const total = new Decimal(c.total_amount_quote);
    const weightSum = [...buyW, ...sellW].reduce((s, w) => s.plus(w), new Decimal(0));
    const level = (side: Side, spread: number, w: number, i: number): Level => ({ id: `${side}_${i}`, side, spread, quote: total.times(w).div(weightSum) });
    this.levels = [...c.buy_spreads.map((s, i) => level('buy', s, buyW[i] ?? 1, i)), ...c.sell_spreads.map((s, i) => level('sell', s, sellW[i] ?? 1, i))];
    this.levels.forEach((l, i) => this.index.set(l.id, i));
    this.busy = new Uint8Array(this.levels.length);
    this.cooldownMs = c.cooldown_time * 1000;
    this.refreshMs = c.executor_refresh_time * 1000;
    this.barrier = tripleBarrier(c, 'limit');
  }

  /**
   * This ladder's level index of an executor, or -1 when it holds none. The level rides in the id
   * (`<executor id>:buy_0`), so a controller rebuilt after a restart still knows what its running
   * executors hold.
   */
  private levelIndex(executorId: string): number {
    let i = this.levelById.get(executorId);
    if (i === undefined) {
      const k = executorId.lastIndexOf(':');
      i = k < 0 ? -1 : (this.index.get(executorId.slice(k + 1)) ?? -1);
      this.levelById.set(executorId, i);
    }
    return i;
  }

  /**
   * Creates for the free levels around the reference price (spreads scaled by `spreadMultiplier`), buy
   * levels first, then stops for the unfilled executors due for a refresh.
   */
  actions(view: ControllerView, reference: ReferencePrice, spreadMultiplier: number): ExecutorAction[] {
    const now = view.now;
    this.now = now;
    const busy = this.busy;
    busy.fill(0);
    let held = 0;
    const actions: ExecutorAction[] = [];
    const list = view.executors;
    for (let k = this.settled.length(list, this.isSettled); k < list.length; k++) {
      const r = list[k] as ExecutorReport;
      const i = this.levelIndex(r.id);
      if (i < 0) continue;
      const coolingDown = r.closeType === 'STOP_LOSS' && r.closedAt !== null && now - r.closedAt < this.cooldownMs;
      if ((isActive(r) || coolingDown) && busy[i] === 0) {
        busy[i] = 1;
        held++;
      }
      if (isStoppable(r) && !hasFills(r) && now - r.createdAt > this.refreshMs) actions.push({ kind: 'stop', executorId: r.id, keepPosition: false });
    }
    if (held === this.levels.length) return actions;
    const ref = reference.referencePrice();
    const creates: ExecutorAction[] = [];
    for (let i = 0; i < this.levels.length; i++) {
      const l = this.levels[i] as Level;
      if (busy[i] === 1) continue;
      const offset = new Decimal(l.spread).times(spreadMultiplier);
      const price = roundPrice(ref.times(l.side === 'buy' ? Decimal.sub(1, offset) : offset.plus(1)));
      if (!price.gt(0)) continue;
      const config: PositionExecutorConfig = {
        type: 'position',
        id: `${view.newExecutorId()}:${l.id}`,
        connector_name: this.c.connector_name,
        trading_pair: this.c.trading_pair,
        leverage: this.c.leverage,
        side: l.side,
        amount: baseAmount(l.quote, price),
        entry_price: price.toFixed(),
        triple_barrier: this.barrier,
      };
      creates.push({ kind: 'create', config });
    }
    // The original proposes creates before stops.
    return actions.length === 0 ? creates : creates.concat(actions);
  }
}
