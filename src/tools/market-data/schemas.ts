import { z } from 'zod';
import { TradingPair } from '../../core/schema.js';
import { Connector } from '../fields.js';

/** The inputs every market-data command shares: the pair in the path, the connector in the query. */
export const MarketRef = {
  trading_pair: TradingPair,
  connector_name: Connector,
};

export const Level = z.object({ price: z.number(), amount: z.number() });
