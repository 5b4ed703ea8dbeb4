import { z } from 'zod';
import { Decimal } from '../../decimal.js';
import { ConnectorName, PositiveDecimalIn, TradingPair } from '../../schema.js';

/** Most levels a grid may have and slices a TWAP may cut: each is state the executor keeps and saves every cycle. */
export const MAX_GRID_LEVELS = 1_000;
export const TOO_MANY_LEVELS = `the grid would have more than ${MAX_GRID_LEVELS} levels: raise min_spread_between_orders or min_order_amount_quote, or narrow the range`;
export const MAX_TWAP_SLICES = 10_000;

/**
 * Executor configs: the wire shape (snake_case, as the original's executors router takes them) that a
 * controller's create action, the executors service and a backtest all use. Amounts and prices are
 * decimal strings; barriers are fractions (0.02 = 2%); durations are seconds.
 */

export const EXECUTOR_TYPES = ['position', 'grid', 'dca', 'twap', 'order'] as const;
export type ExecutorType = (typeof EXECUTOR_TYPES)[number];

const Side = z.enum(['buy', 'sell']).describe('buy opens or adds long, sell opens or adds short (or sells spot base).');
const OrderType = z.enum(['market', 'limit', 'limit_maker']);
const Fraction = z.number().finite().gt(0).lt(10);
const Seconds = z.number().int().positive().max(10 * 365 * 86_400);

/** What an executor id may hold (a chosen one; generated ones are `ex_` and base64url). */
export const EXECUTOR_ID_RE = /^[A-Za-z0-9_.:-]{1,80}$/;
/** Ids a route of its own takes (GET /executors/summary), so that no executor could be read at them. */
const RESERVED_EXECUTOR_IDS = new Set(['summary']);

const Common = {
  id: z
    .string()
    .regex(EXECUTOR_ID_RE, 'letters, digits, ".", ":", "_" or "-", at most 80')
    .refine((v) => !RESERVED_EXECUTOR_IDS.has(v), 'reserved: GET /executors/summary is the PnL summary')
    .optional()
    .describe('Executor id; generated when absent.'),
  connector_name: ConnectorName,
  trading_pair: TradingPair,
  leverage: z.number().int().min(1).max(125).default(1).describe('Leverage on perpetual connectors; ignored on spot.'),
  controller_id: z.string().max(80).optional().describe('The controller that created it, if any.'),
};

export const TrailingStop = z
  .object({
    activation_price: Fraction.describe('PnL fraction at which the trailing stop arms (0.015 = +1.5%). The original calls it a price; it is a PnL fraction.'),
    trailing_delta: Fraction.describe('How far PnL may fall from its peak once armed before the position is closed (fraction).'),
  })
  .strict();

export const TripleBarrier = z
  .object({
    stop_loss: Fraction.optional().describe('Close when PnL falls to -stop_loss (fraction of entry).'),
    take_profit: Fraction.optional().describe('Close when PnL reaches take_profit (fraction of entry).'),
    time_limit: Seconds.optional().describe('Close this many seconds after the executor was created.'),
    trailing_stop: TrailingStop.optional(),
    open_order_type: OrderType.default('market'),
    take_profit_order_type: OrderType.default('market'),
    stop_loss_order_type: z.literal('market').default('market').describe('Stops close with market orders.'),
    time_limit_order_type: z.literal('market').default('market'),
  })
  .strict();
export type TripleBarrier = z.infer<typeof TripleBarrier>;

export const PositionExecutorConfig = z
  .object({
    type: z.literal('position'),
    ...Common,
    side: Side,
    amount: PositiveDecimalIn.describe('Base amount to open.'),
    entry_price: PositiveDecimalIn.optional().describe('Limit price for a limit open; the current price when absent.'),
    triple_barrier: TripleBarrier.default({ open_order_type: 'market', take_profit_order_type: 'market', stop_loss_order_type: 'market', time_limit_order_type: 'market' }),
  })
  .strict();

export const OrderExecutorConfig = z
  .object({
    type: z.literal('order'),
    ...Common,
    side: Side,
    amount: PositiveDecimalIn.describe('Base amount.'),
    execution_strategy: z.enum(['market', 'limit', 'limit_maker', 'limit_chaser']).default('market'),
    price: PositiveDecimalIn.optional().describe('Limit price (limit, limit_maker); the current price when absent.'),
    chaser: z
      .object({
        distance: z.number().finite().min(0).lt(1).default(0.001).describe('How far behind the best price the chaser rests (fraction).'),
        refresh_threshold: z.number().finite().gt(0).lt(1).default(0.002).describe('Re-place when the best price moved this far from the order (fraction).'),
      })
      .strict()
      .optional(),
    position_action: z.enum(['open', 'close']).optional(),
  })
  .strict();

export const DcaExecutorConfig = z
  .object({
    type: z.literal('dca'),
    ...Common,
    side: Side,
    amounts_quote: z.array(PositiveDecimalIn).min(1).max(50).describe('Quote amount of each level, first level first.'),
    prices: z.array(PositiveDecimalIn).min(1).max(50).describe('Limit price of each level.'),
    mode: z.enum(['maker', 'taker']).default('maker').describe('maker: rest limit orders at the levels; taker: market order when the price reaches a level.'),
    take_profit: Fraction.optional(),
    stop_loss: Fraction.optional(),
    trailing_stop: TrailingStop.optional(),
    time_limit: Seconds.optional(),
    activation_bounds: z.array(Fraction).max(2).optional().describe('Place a level only when the price is within this fraction of it.'),
  })
  .strict()
  .refine((c) => c.amounts_quote.length === c.prices.length, { message: 'amounts_quote and prices must have the same length', path: ['prices'] });

export const GridExecutorConfig = z
  .object({
    type: z.literal('grid'),
    ...Common,
    side: Side,
    start_price: PositiveDecimalIn,
    end_price: PositiveDecimalIn,
    limit_price: PositiveDecimalIn.optional().describe('Stop the grid when the price crosses this (below start for long, above end for short).'),
    total_amount_quote: PositiveDecimalIn,
    min_spread_between_orders: Fraction.default(0.0005),
    min_order_amount_quote: PositiveDecimalIn.default('5'),
    max_open_orders: z.number().int().min(1).max(100).default(5),
    max_orders_per_batch: z.number().int().min(1).max(100).optional(),
    order_frequency: z.number().int().min(0).max(86_400).default(0).describe('Seconds between order batches.'),
    activation_bounds: Fraction.optional(),
    safe_extra_spread: Fraction.default(0.0001),
    take_profit: Fraction.default(0.001).describe('Each level closes at its entry plus this fraction.'),
    time_limit: Seconds.optional(),
    keep_position: z.boolean().default(false),
  })
  .strict()
  .refine((c) => new Decimal(c.start_price).lt(c.end_price), { message: 'start_price must be below end_price', path: ['end_price'] })
  .refine((c) => !c.limit_price || (c.side === 'buy' ? new Decimal(c.limit_price).lt(c.start_price) : new Decimal(c.limit_price).gt(c.end_price)), {
    message: 'limit_price must be below start_price for a long grid (side buy) and above end_price for a short one',
    path: ['limit_price'],
  })
  .refine((c) => new Decimal(c.start_price).gte(c.end_price) || gridLevelCount(c) <= MAX_GRID_LEVELS, {
    message: TOO_MANY_LEVELS,
    path: ['min_spread_between_orders'],
  });

/** How many levels fit: spaced at least min_spread (of start) apart, each worth at least min_order_amount_quote; one at least. */
export function gridLevelCount(c: { start_price: string; end_price: string; min_spread_between_orders: number; total_amount_quote: string; min_order_amount_quote: string }): number {
  const start = new Decimal(c.start_price);
  const range = new Decimal(c.end_price).minus(start).div(start);
  const bySpread = range.div(String(c.min_spread_between_orders)).floor().plus(1);
  const byAmount = new Decimal(c.total_amount_quote).div(c.min_order_amount_quote).floor();
  return Math.max(1, Decimal.min(bySpread, byAmount).toNumber());
}

export const TwapExecutorConfig = z
  .object({
    type: z.literal('twap'),
    ...Common,
    side: Side,
    total_amount_quote: PositiveDecimalIn,
    total_duration: Seconds.describe('Seconds over which the amount is spread.'),
    order_interval: Seconds.describe('Seconds between slices.'),
    mode: z.enum(['taker', 'maker']).default('taker'),
    limit_order_buffer: z.number().finite().min(0).lt(1).default(0.0005).describe('Maker mode: how far inside the book each slice rests (fraction).'),
    order_resubmission_time: Seconds.default(60).describe('Maker mode: a slice unfilled after this many seconds is cancelled and re-placed.'),
  })
  .strict()
  .refine((c) => c.order_interval <= c.total_duration, { message: 'order_interval must not exceed total_duration', path: ['order_interval'] })
  .refine((c) => c.total_duration / c.order_interval <= MAX_TWAP_SLICES, { message: `at most ${MAX_TWAP_SLICES} slices: raise order_interval or shorten total_duration`, path: ['order_interval'] });

export const ExecutorConfig = z.discriminatedUnion('type', [PositionExecutorConfig, OrderExecutorConfig, DcaExecutorConfig, GridExecutorConfig, TwapExecutorConfig]);
export type ExecutorConfig = z.infer<typeof ExecutorConfig>;
export type PositionExecutorConfig = z.infer<typeof PositionExecutorConfig>;
export type OrderExecutorConfig = z.infer<typeof OrderExecutorConfig>;
export type DcaExecutorConfig = z.infer<typeof DcaExecutorConfig>;
export type GridExecutorConfig = z.infer<typeof GridExecutorConfig>;
export type TwapExecutorConfig = z.infer<typeof TwapExecutorConfig>;
