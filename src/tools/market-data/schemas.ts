import { z } from 'zod';
import { ConnectorName, TradingPair } from '../../core/schema.js';

/** The inputs every market-data command shares: the pair in the path, the connector in the query. */
export const MarketRef = {
  trading_pair: TradingPair,
  connector_name: ConnectorName.describe('Connector to read from, e.g. "sim" (offline), "binance", "okx_perpetual".'),
};

export const Level = z.object({ price: z.number(), amount: z.number() });
