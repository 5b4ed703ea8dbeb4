import { AppError } from '../errors.js';
import { Decimal, midPrice } from '../decimal.js';
import type { Connectors } from '../exchange/connectors.js';
import type { ConnectorInfo, Market, MarketType, OrderBook } from '../exchange/types.js';

export interface Venue {
  info: ConnectorInfo;
  market: Market;
  marketType: MarketType;
  /** Where the book came from: the connector itself, or sim standing in for an unreachable exchange. */
  bookSource: string;
  book(depth: number): Promise<OrderBook>;
}

/**
 * Finds the market and order book a paper order fills against. A `*_paper_trade` connector uses its
 * exchange's real book; when that exchange cannot be reached, the sim book of the same pair stands in
 * (and the order says so), so paper trading keeps working offline.
 */
export async function paperVenue(connectors: Connectors, connectorName: string, pair: string): Promise<Venue> {
  const info = await connectors.info(connectorName);
  const marketType = info.market_type;
  const direct = async (name: string): Promise<Venue> => {
    const c = await connectors.get(name);
    const market = (await c.loadMarkets()).find((m) => m.trading_pair === pair);
    if (!market) {
      throw new AppError('NOT_FOUND', `${name} does not list ${pair}.`, { hint: `GET /connectors/${name}/markets lists its pairs.`, details: { trading_pair: pair } });
    }
    return { info, market, marketType, bookSource: name, book: (depth) => c.fetchOrderBook(pair, depth) };
  };
  if (info.kind !== 'paper') return direct(connectorName);
  try {
    return await direct(connectorName);
  } catch (err) {
    if (!(err instanceof AppError) || (err.code !== 'UPSTREAM_UNAVAILABLE' && err.code !== 'TIMEOUT')) throw err;
    const sim = marketType === 'perpetual' ? 'sim_perpetual' : 'sim';
    const v = await direct(sim).catch(() => {
      throw err;
    });
    return { ...v, info, bookSource: sim };
  }
}

export async function midOf(ob: OrderBook): Promise<Decimal> {
  const bid = ob.bids[0]?.price;
  const ask = ob.asks[0]?.price;
  if (bid === undefined && ask === undefined) throw new AppError('UPSTREAM_UNAVAILABLE', `The ${ob.trading_pair} book is empty.`, { hint: 'Retry shortly.' });
  return bid !== undefined && ask !== undefined ? midPrice(bid, ask) : new Decimal(String(bid ?? ask));
}
