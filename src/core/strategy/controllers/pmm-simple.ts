import { z } from 'zod';
import type { Decimal } from '../../decimal.js';
import { defineController } from '../controller.js';
import type { ControllerInstance, ControllerView, ExecutorAction } from '../types.js';
import { checkLevels, LevelLadder, marketMakingFields, type ReferencePrice } from './base/market-making.js';

const PmmSimpleConfig = z
  .object(
    marketMakingFields({
      schema: z.number().finite().min(0).lt(1),
      default: [0.01, 0.02],
      unit: 'as a fraction of the price (0.01 = 1%)',
    }),
  )
  .strict()
  .superRefine(checkLevels);
type PmmSimpleConfig = z.infer<typeof PmmSimpleConfig>;

export const pmmSimple = defineController({
  name: 'pmm_simple',
  type: 'market_making',
  description:
    'Pure market making around the mid price: one limit-entry position executor per level at fixed spreads (buy_spreads below the mid, sell_spreads above), amounts split across the levels by buy_amounts_pct and sell_amounts_pct. A filled level runs its stop loss, take profit and time limit; an unfilled one is re-placed around the current mid every executor_refresh_time, and a level that stopped out waits cooldown_time.',
  config: PmmSimpleConfig,
  data: (c) => ({ candles: [], quotes: [{ connector: c.connector_name, tradingPair: c.trading_pair }] }),
  warmupBars: () => 0,
  create: (c) => new PmmSimple(c),
});

class PmmSimple implements ControllerInstance, ReferencePrice {
  private readonly ladder: LevelLadder;
  /** The mid of the latest quote. */
  private reference: Decimal | null = null;

  constructor(private readonly c: PmmSimpleConfig) {
    this.ladder = new LevelLadder(c);
  }

  update(view: ControllerView): ExecutorAction[] {
    const quote = view.market.quote(this.c.connector_name, this.c.trading_pair);
    if (quote === null || !quote.mid.gt(0)) return [];
    this.reference = quote.mid;
    return this.ladder.actions(view, this, 1);
  }

  referencePrice(): Decimal {
    return this.reference as Decimal;
  }

  processedData(): Record<string, unknown> {
    return { reference_price: this.reference === null ? null : this.reference.toFixed(), spread_multiplier: 1 };
  }
}
