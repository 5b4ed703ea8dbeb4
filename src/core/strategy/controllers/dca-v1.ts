import { z } from 'zod';
import { Decimal } from '../../decimal.js';
import { defineController } from '../controller.js';
import { DcaExecutorConfig, TrailingStop } from '../executors/configs.js';
import type { ControllerInstance, ControllerView, ExecutorAction, Side } from '../types.js';
import { hasFills, isStoppable, roundPrice } from './base/executors.js';
import { cooldownTime, Fraction, leverage, marketFields, Seconds, totalAmountQuote } from './base/fields.js';

const DcaV1Config = z
  .object({
    ...marketFields,
    side: z.enum(['buy', 'sell']).default('buy').describe('buy accumulates on the way down (levels below the price); sell on the way up (levels above).'),
    total_amount_quote: totalAmountQuote('100'),
    dca_spreads: z
      .array(z.number().finite().min(0).lt(1))
      .min(1)
      .max(50)
      .default([0.001, 0.018, 0.15, 0.25])
      .describe('Distance of each level from the mid price when the ladder is laid (fraction), nearest first, strictly increasing.'),
    dca_amounts_pct: z
      .array(z.number().finite().gt(0))
      .min(1)
      .max(50)
      .nullable()
      .default(null)
      .describe('Relative quote amount of each level, one per spread; null for equal amounts.'),
    max_executors: z.number().int().min(1).max(20).default(1).describe('DCA ladders working at once; each gets total_amount_quote / max_executors.'),
    cooldown_time: cooldownTime(300, 'Seconds after the newest working ladder was laid before another may be.'),
    executor_refresh_time: Seconds.nullable()
      .default(null)
      .describe('Stop a ladder none of whose levels filled after this many seconds, so a new one is laid around the current price; null keeps it.'),
    mode: z.enum(['maker', 'taker']).default('maker').describe('maker rests limit orders at the levels; taker sends a market order when the price reaches a level.'),
    activation_bounds: z.array(Fraction).min(1).max(2).nullable().default(null).describe('Place a level only when the price is within this fraction of it; null places them all.'),
    leverage: leverage(1),
    stop_loss: Fraction.nullable().default(0.03).describe('Close the ladder when its PnL falls to -stop_loss (fraction of the average entry); null for none.'),
    take_profit: Fraction.nullable().default(0.02).describe('Close the ladder when its PnL reaches take_profit (fraction of the average entry); null for none.'),
    time_limit: Seconds.nullable().default(null).describe('Close the ladder this many seconds after it was laid; null for none.'),
    trailing_stop: TrailingStop.nullable().default(null).describe('Trailing stop {activation_price, trailing_delta}, both PnL fractions; null for none.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (let i = 1; i < c.dca_spreads.length; i++) {
      if (!((c.dca_spreads[i] as number) > (c.dca_spreads[i - 1] as number))) {
        ctx.addIssue({ code: 'custom', message: 'dca_spreads must be strictly increasing', path: ['dca_spreads', i] });
        break;
      }
    }
    if (c.dca_amounts_pct !== null && c.dca_amounts_pct.length !== c.dca_spreads.length) {
      ctx.addIssue({ code: 'custom', message: 'dca_amounts_pct must have one weight per spread', path: ['dca_amounts_pct'] });
    }
  });
type DcaV1Config = z.infer<typeof DcaV1Config>;

export const dcaV1 = defineController({
  name: 'dca_v1',
  type: 'generic',
  description:
    'Dollar-cost averaging ladders: lays a DCA executor whose levels sit dca_spreads away from the mid price (below it to buy, above it to sell), with quote amounts weighted by dca_amounts_pct, and closes the averaged position at take_profit, stop_loss, time_limit or the trailing stop. Up to max_executors ladders work at once, a new one at most every cooldown_time; an unfilled ladder can be re-laid around the price every executor_refresh_time.',
  config: DcaV1Config,
  data: (c) => ({ candles: [], quotes: [{ connector: c.connector_name, tradingPair: c.trading_pair }], executors: 'active' }),
  warmupBars: () => 0,
  create: (c) => new DcaV1(c),
});

class DcaV1 implements ControllerInstance {
  /** Quote amount of each level of one ladder. */
  private readonly levelQuotes: string[];
  private readonly cooldownMs: number;
  private readonly refreshMs: number | null;
  private mid: Decimal | null = null;

  constructor(private readonly c: DcaV1Config) {
    const weights = c.dca_amounts_pct ?? c.dca_spreads.map(() => 1);
    const sum = weights.reduce((s, w) => s.plus(w), new Decimal(0));
    const perLadder = new Decimal(c.total_amount_quote).div(c.max_executors);
    this.levelQuotes = weights.map((w) => perLadder.times(w).div(sum).toSignificantDigits(16, Decimal.ROUND_DOWN).toFixed());
    this.cooldownMs = c.cooldown_time * 1000;
    this.refreshMs = c.executor_refresh_time === null ? null : c.executor_refresh_time * 1000;
  }

  update(view: ControllerView): ExecutorAction[] {
    const c = this.c;
    const quote = view.market.quote(c.connector_name, c.trading_pair);
    this.mid = quote === null ? null : quote.mid;
    const actions: ExecutorAction[] = [];
    const active = view.activeExecutors;
    let newest = -Infinity;
    for (const r of active) if (r.createdAt > newest) newest = r.createdAt;
    if (this.mid !== null && this.mid.gt(0) && active.length < c.max_executors && view.now - newest > this.cooldownMs) {
      actions.push({ kind: 'create', config: this.ladder(view.newExecutorId(), this.mid) });
    }
    if (this.refreshMs !== null) {
      for (const r of active) {
        if (isStoppable(r) && !hasFills(r) && view.now - r.createdAt > this.refreshMs) actions.push({ kind: 'stop', executorId: r.id, keepPosition: false });
      }
    }
    return actions;
  }

  private ladder(id: string, mid: Decimal): DcaExecutorConfig {
    const c = this.c;
    const side: Side = c.side;
    const prices = c.dca_spreads.map((s) => roundPrice(mid.times(side === 'buy' ? Decimal.sub(1, s) : Decimal.add(1, s))).toFixed());
    // Parsed so the executor's own checks and defaults apply to what the controller builds.
    return DcaExecutorConfig.parse({
      type: 'dca',
      id,
      connector_name: c.connector_name,
      trading_pair: c.trading_pair,
      leverage: c.leverage,
      side,
      amounts_quote: this.levelQuotes,
      prices,
      mode: c.mode,
      take_profit: c.take_profit ?? undefined,
      stop_loss: c.stop_loss ?? undefined,
      trailing_stop: c.trailing_stop ?? undefined,
      time_limit: c.time_limit ?? undefined,
      activation_bounds: c.activation_bounds ?? undefined,
    });
  }

  processedData(): Record<string, unknown> {
    return { mid_price: this.mid === null ? null : this.mid.toFixed() };
  }
}
