import { z } from 'zod';
import { CANDLE_INTERVALS } from '../../../exchange/types.js';
import { ConnectorName, PositiveDecimalIn, TradingPair } from '../../../schema.js';
import { TrailingStop } from '../../executors/configs.js';

/**
 * Config fields the shipped controllers share, named as the original's controller configs name them
 * (snake_case). Fractions are plain numbers (0.02 = 2%), durations are seconds, amounts are decimal
 * strings. A barrier set to null is switched off.
 */

export const Fraction = z.number().finite().gt(0).lt(10);
export const Seconds = z.number().int().positive().max(10 * 365 * 86_400);
const NonNegativeSeconds = z.number().int().min(0).max(10 * 365 * 86_400);

export const marketFields = {
  connector_name: ConnectorName.describe('Connector the executors trade on, e.g. "binance_perpetual" or "sim_perpetual".'),
  trading_pair: TradingPair.describe('Pair the executors trade, BASE-QUOTE, e.g. "BTC-USDT".'),
};

export const candleFields = (defaultInterval: (typeof CANDLE_INTERVALS)[number]) => ({
  candles_connector: ConnectorName.optional().describe('Connector whose candles feed the indicators; connector_name when absent.'),
  candles_trading_pair: TradingPair.optional().describe('Pair whose candles feed the indicators; trading_pair when absent.'),
  interval: z.enum(CANDLE_INTERVALS).default(defaultInterval).describe('Candle interval the indicators run on.'),
});

export const totalAmountQuote = (defaultAmount: string) =>
  PositiveDecimalIn.default(defaultAmount).describe('Quote amount the controller may commit across all its executors.');

export const leverage = (defaultLeverage: number) =>
  z.number().int().min(1).max(125).default(defaultLeverage).describe('Leverage set on perpetual connectors; ignored on spot.');

export const cooldownTime = (defaultSeconds: number, what: string) => NonNegativeSeconds.default(defaultSeconds).describe(what);

/** Triple-barrier fields as the original's controller configs spell them; null switches a barrier off. */
export const barrierFields = (defaults: {
  stop_loss: number;
  take_profit: number;
  time_limit: number;
  take_profit_order_type: 'market' | 'limit' | 'limit_maker';
  trailing_stop: { activation_price: number; trailing_delta: number } | null;
}) => ({
  stop_loss: Fraction.nullable().default(defaults.stop_loss).describe('Close an executor when its PnL falls to -stop_loss (fraction of entry); null for none.'),
  take_profit: Fraction.nullable().default(defaults.take_profit).describe('Close an executor when its PnL reaches take_profit (fraction of entry); null for none.'),
  time_limit: Seconds.nullable().default(defaults.time_limit).describe('Close an executor this many seconds after it was created; null for none.'),
  take_profit_order_type: z
    .enum(['market', 'limit', 'limit_maker'])
    .default(defaults.take_profit_order_type)
    .describe('market closes at take profit with a market order; limit and limit_maker rest a closing order at the take-profit price once the entry fills.'),
  trailing_stop: TrailingStop.nullable()
    .default(defaults.trailing_stop)
    .describe('Trailing stop {activation_price, trailing_delta}, both PnL fractions; null for none.'),
});

/** Connector and pair of the candles a controller reads: its own market unless configured otherwise. */
export function candlesMarket(c: { connector_name: string; trading_pair: string; candles_connector?: string | undefined; candles_trading_pair?: string | undefined }) {
  return { connector: c.candles_connector ?? c.connector_name, tradingPair: c.candles_trading_pair ?? c.trading_pair };
}
