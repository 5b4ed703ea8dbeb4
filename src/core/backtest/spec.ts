import { z } from 'zod';
import { CANDLE_INTERVALS } from '../exchange/types.js';
import { ConnectorName, NonNegativeDecimalIn, TradingPair } from '../schema.js';
import { FILL_PATHS } from './candle-path.js';

const Fee = z.number().finite().min(0).lt(0.1);

/**
 * What a backtest runs: one controller over one market's candles, on an in-memory spot ledger. Times
 * are epoch ms; fees and slippage apply to every fill (see docs/backtesting.md for the fill model).
 */
export const BacktestSpecFields = z
  .object({
    controller: z
      .object({
        name: z.string().min(1).max(80).describe('Controller module name, e.g. "bollinger_v1".'),
        config: z.record(z.string(), z.unknown()).default({}).describe("The controller's config; its connector_name and trading_pair default to the backtest's."),
      })
      .strict()
      .describe('The controller to run (a stored config id is resolved to this before the run).'),
    connector: ConnectorName.describe('Connector whose candles and trading rules the backtest uses, e.g. "sim", "sim_perpetual" (perpetual: shorts on margin) or "binance".'),
    trading_pair: TradingPair,
    start: z.number().int().min(0).describe('First candle open time of the range, epoch ms.'),
    end: z.number().int().min(0).describe('Last candle open time of the range (inclusive), epoch ms.'),
    resolution: z.enum(CANDLE_INTERVALS).default('1m').describe('Candle interval the engine walks; each candle is expanded into a four-point price path.'),
    trade_cost: Fee.default(0.0002).describe('Fee rate per fill (fraction of notional), used for maker and taker fills unless maker_fee / taker_fee are set.'),
    maker_fee: Fee.optional().describe('Fee rate of fills of resting limit orders; trade_cost when absent.'),
    taker_fee: Fee.optional().describe('Fee rate of market orders and of limit orders that fill on arrival; trade_cost when absent.'),
    slippage_bps: z.number().finite().min(0).max(1000).default(0).describe('Market orders fill this many basis points worse than the path price (buys higher, sells lower).'),
    initial_balances: z
      .object({
        base: NonNegativeDecimalIn.default('0').describe('Base asset held at the start (a spot sell needs base to sell).'),
        quote: NonNegativeDecimalIn.default('10000').describe('Quote asset held at the start.'),
      })
      .strict()
      .default({ base: '0', quote: '10000' }),
    fill_path: z.enum(FILL_PATHS).default('direction').describe('Order of the extremes inside a candle: direction (up candle O-L-H-C, down candle O-H-L-C), high_first or low_first.'),
  })
  .strict();

/** The range check every form of the spec carries (the run command's too, with its ISO times). */
export const endNotBeforeStart: [(s: { start: number; end: number }) => boolean, { message: string; path: string[] }] = [(s) => s.end >= s.start, { message: 'end must not be before start', path: ['end'] }];

export const BacktestSpec = BacktestSpecFields.refine(...endNotBeforeStart);

export type BacktestSpec = z.infer<typeof BacktestSpec>;
export type BacktestSpecInput = z.input<typeof BacktestSpec>;
