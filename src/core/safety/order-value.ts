import { AppError } from '../command/errors.js';
import type { TradeIntent } from '../command/types.js';
import { Decimal } from '../decimal.js';
import type { Connectors } from '../exchange/connectors.js';
import type { ConnectorInfo, Market, OrderBook } from '../exchange/types.js';
import { toLevels, walkBook } from '../trading/book-walk.js';
import type { Valuation } from '../portfolio/valuation.js';
import { PAPER_FEES, feeOn } from '../trading/fees.js';
import { paperVenue } from '../trading/venue.js';

export interface OrderValue {
  info: ConnectorInfo;
  market: Market;
  /** The best price on the order's side of the book now: the ask for a buy, the bid for a sell. */
  reference_price: Decimal;
  /**
   * What the order can cost at this book, in the quote asset: a limit order amount × max(limit price,
   * reference price); a market order the book walked level by level.
   */
  notional_quote: Decimal;
  /** The same in USDT; null when the quote asset cannot be priced (then caps fail closed). */
  notional_usdt: Decimal | null;
  estimated_fee: Decimal;
}

/**
 * Values an order from a live quote, the same way for a preview and for the guard: the cap compares
 * what the order could cost now, not what the caller says it costs. Perpetual contracts here are linear
 * (one contract = one base unit), so the value is amount × price.
 */
export async function valueOrder(connectors: Connectors, valuation: Valuation, t: TradeIntent): Promise<OrderValue> {
  const info = await connectors.info(t.connector);
  const { market, book } = await bookFor(connectors, info, t.pair);
  const side = t.side ?? 'buy';
  const levels = toLevels(side === 'buy' ? book.asks : book.bids);
  const otherSide = toLevels(side === 'buy' ? book.bids : book.asks);
  const ref = levels[0]?.price ?? otherSide[0]?.price;
  if (!ref) throw new AppError('UPSTREAM_UNAVAILABLE', `The ${t.pair} book on ${info.name} is empty, so the order cannot be valued.`, { hint: 'Retry shortly.' });
  const amount = new Decimal(t.amount ?? 0);
  let notional: Decimal;
  if (t.price) {
    notional = amount.times(Decimal.max(new Decimal(t.price), ref));
  } else {
    // A market order pays for the depth it eats: walk the book, and value what the book cannot fill at
    // its last (worst) level, so a large order is not valued at the best quote.
    const walk = walkBook(levels, amount, side);
    const worst = walk.executions.at(-1)?.price ?? ref;
    notional = walk.notional.plus(amount.minus(walk.filled).times(worst));
  }
  const toUsdt = await valuation.price(info.kind === 'exchange' ? t.connector : 'sim', market.quote, 'USDT');
  return {
    info,
    market,
    reference_price: ref,
    notional_quote: notional,
    notional_usdt: toUsdt ? notional.times(toUsdt) : null,
    estimated_fee: feeOn(notional, PAPER_FEES[market.market_type].taker),
  };
}

const BOOK_DEPTH = 100;

/** The market and its current book: the connector's own (a live exchange's, or a paper venue's, with sim standing in offline). */
async function bookFor(connectors: Connectors, info: ConnectorInfo, pair: string): Promise<{ market: Market; book: OrderBook }> {
  if (info.kind === 'exchange') {
    const c = await connectors.get(info.name);
    const market = (await c.loadMarkets()).find((m) => m.trading_pair === pair);
    if (!market) throw new AppError('NOT_FOUND', `${info.name} does not list ${pair}.`, { hint: `GET /connectors/${info.name}/markets lists its pairs.` });
    return { market, book: await c.fetchOrderBook(pair, BOOK_DEPTH) };
  }
  const venue = await paperVenue(connectors, info.name, pair);
  return { market: venue.market, book: await venue.book(BOOK_DEPTH) };
}
