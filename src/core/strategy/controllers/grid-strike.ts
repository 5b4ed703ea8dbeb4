import { z } from 'zod';
import { Decimal } from '../../decimal.js';
import { PositiveDecimalIn } from '../../schema.js';
import { defineController } from '../controller.js';
import type { TradingRules } from '../../exchange/types.js';
import { GridExecutorConfig, gridLevelCount, MAX_GRID_LEVELS, TOO_MANY_LEVELS } from '../executors/configs.js';
import { planGrid } from '../executors/grid-levels.js';
import type { ControllerInstance, ControllerView, ExecutorAction } from '../types.js';
import { Fraction, leverage, marketFields, Seconds, totalAmountQuote } from './base/fields.js';

const GridStrikeConfig = z
  .object({
    ...marketFields,
    side: z.enum(['buy', 'sell']).default('buy').describe('buy: the grid buys low and sells each level higher (long); sell: the reverse (short).'),
    start_price: PositiveDecimalIn.describe('Lower bound of the grid.'),
    end_price: PositiveDecimalIn.describe('Upper bound of the grid.'),
    limit_price: PositiveDecimalIn.optional().describe('Stop the grid when the price crosses this: below start_price for a buy grid, above end_price for a sell grid.'),
    total_amount_quote: totalAmountQuote('1000'),
    leverage: leverage(20),
    min_spread_between_orders: Fraction.default(0.001).describe('Smallest distance between two grid levels (fraction of the price).'),
    min_order_amount_quote: PositiveDecimalIn.default('5').describe('Smallest quote amount per level; fewer levels are used when the budget is thin.'),
    max_open_orders: z.number().int().min(1).max(100).default(2).describe('Most grid orders resting at once.'),
    max_orders_per_batch: z.number().int().min(1).max(100).nullable().default(1).describe('Most orders placed in one batch; null for no cap.'),
    order_frequency: z.number().int().min(0).max(86_400).default(3).describe('Seconds between order batches.'),
    activation_bounds: Fraction.nullable().default(null).describe('Place a level only when the price is within this fraction of it; null places them all.'),
    take_profit: Fraction.default(0.001).describe('Each filled level closes at its entry plus this fraction.'),
    time_limit: Seconds.nullable().default(null).describe('End the grid this many seconds after it was created; null for none.'),
    keep_position: z.boolean().default(false).describe('When the grid ends, keep what it holds instead of closing it.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const start = new Decimal(c.start_price);
    const end = new Decimal(c.end_price);
    if (!start.lt(end)) ctx.addIssue({ code: 'custom', message: 'start_price must be below end_price', path: ['start_price'] });
    // The grid executor's own limit, checked here so a config is refused when saved, not at its first grid.
    else if (gridLevelCount(c) > MAX_GRID_LEVELS) {
      ctx.addIssue({ code: 'custom', message: TOO_MANY_LEVELS, path: ['min_spread_between_orders'] });
    }
    if (c.limit_price === undefined) return;
    const limit = new Decimal(c.limit_price);
    if (c.side === 'buy' ? !limit.lt(start) : !limit.gt(end)) {
      ctx.addIssue({ code: 'custom', message: c.side === 'buy' ? 'limit_price must be below start_price for a buy grid' : 'limit_price must be above end_price for a sell grid', path: ['limit_price'] });
    }
  });
type GridStrikeConfig = z.infer<typeof GridStrikeConfig>;

export const gridStrike = defineController({
  name: 'grid_strike',
  type: 'generic',
  description:
    'A grid between start_price and end_price: one grid executor that rests limit orders at levels across the range and closes each filled level at take_profit, stopping if the price crosses limit_price. While no grid is working and the mid price is inside the range, a new one is created, so a grid that ended is laid again once the price is back in range.',
  config: GridStrikeConfig,
  example: { connector_name: 'sim', trading_pair: 'BTC-USDT', start_price: '60000', end_price: '70000' },
  data: (c) => ({ candles: [], quotes: [{ connector: c.connector_name, tradingPair: c.trading_pair }], executors: 'active' }),
  warmupBars: () => 0,
  create: (c) => new GridStrike(c),
});

class GridStrike implements ControllerInstance {
  private readonly start: Decimal;
  private readonly end: Decimal;
  private mid: Decimal | null = null;
  private activeGrid: string | null = null;
  /** The sizing refusal the last grid was laid under (null: it could be sized). */
  private refused: string | null = null;
  /** The last rules planned under and the refusal they gave (rules objects are kept by the views, so identity says nothing changed). */
  private planned: { rules: TradingRules | null; refusal: string | null } | null = null;

  constructor(private readonly c: GridStrikeConfig) {
    this.start = new Decimal(c.start_price);
    this.end = new Decimal(c.end_price);
  }

  private inside(price: Decimal): boolean {
    return price.gte(this.start) && price.lte(this.end);
  }

  update(view: ControllerView): ExecutorAction[] {
    const quote = view.market.quote(this.c.connector_name, this.c.trading_pair);
    this.mid = quote === null ? null : quote.mid;
    const active = view.activeExecutors[0];
    this.activeGrid = active === undefined ? null : active.id;
    if (this.activeGrid !== null || this.mid === null || !this.inside(this.mid)) return [];
    const c = this.c;
    // A grid the market's rules cannot size ends FAILED at once, saying why; one says it, a new one a minute would only repeat it.
    const refusal = this.refusalUnder(view.market.rules(c.connector_name, c.trading_pair));
    if (refusal !== null && refusal === this.refused) return [];
    this.refused = refusal;
    // Parsed so the executor's own defaults fill what the controller does not set.
    const config = GridExecutorConfig.parse({
      type: 'grid',
      id: view.newExecutorId(),
      connector_name: c.connector_name,
      trading_pair: c.trading_pair,
      leverage: c.leverage,
      side: c.side,
      start_price: c.start_price,
      end_price: c.end_price,
      total_amount_quote: c.total_amount_quote,
      min_spread_between_orders: c.min_spread_between_orders,
      min_order_amount_quote: c.min_order_amount_quote,
      max_open_orders: c.max_open_orders,
      order_frequency: c.order_frequency,
      take_profit: c.take_profit,
      keep_position: c.keep_position,
      limit_price: c.limit_price,
      max_orders_per_batch: c.max_orders_per_batch ?? undefined,
      activation_bounds: c.activation_bounds ?? undefined,
      time_limit: c.time_limit ?? undefined,
    });
    this.activeGrid = config.id ?? null;
    return [{ kind: 'create', config }];
  }

  /** Why a grid of this config cannot be laid under `rules`, or null. */
  private refusalUnder(rules: TradingRules | null): string | null {
    if (this.planned === null || this.planned.rules !== rules) {
      const plan = planGrid(this.c, rules);
      this.planned = { rules, refusal: 'refusal' in plan ? plan.refusal : null };
    }
    return this.planned.refusal;
  }

  processedData(): Record<string, unknown> {
    const out: Record<string, unknown> = { mid_price: this.mid === null ? null : this.mid.toFixed(), inside_bounds: this.mid === null ? null : this.inside(this.mid), active_grid: this.activeGrid };
    if (this.refused !== null) out.grid_refused = this.refused;
    return out;
  }
}
