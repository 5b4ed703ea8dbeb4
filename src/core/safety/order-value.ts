import { AppError } from '../errors.js';
import type { TradeIntent } from '../trade-intent.js';
import { Decimal } from '../decimal.js';
import type { Connectors } from '../exchange/connectors.js';
import type { ConnectorInfo, Market, OrderBook } from '../exchange/types.js';
import { bestOf, lazyLevels, walkBook } from '../trading/matching/book-walk.js';
import type { Valuation } from '../portfolio/valuation.js';
import { PAPER_FEES, feeOn } from '../trading/matching/fees.js';
import { quantize } from '../trading/matching/quantize.js';
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
export async function valueOrder(connectors: Connectors, valuation: Valuation, t: TradeIntent, at?: MarketVenue): Promise<OrderValue> {
  const info = await connectors.info(t.connector);
  const venue = at ?? (await venueOf(connectors, info, t.pair));
  const { market } = venue;
  const book = await venue.book(BOOK_DEPTH);
  const side = t.side ?? 'buy';
  const own = side === 'buy' ? book.asks : book.bids;
  const ref = bestOf(own) ?? bestOf(side === 'buy' ? book.bids : book.asks);
  if (!ref) throw new AppError('UPSTREAM_UNAVAILABLE', `The ${t.pair} book on ${info.name} is empty, so the order cannot be valued.`, { hint: 'Retry shortly.' });
  const amount = new Decimal(t.amount ?? 0);
  let notional: Decimal;
  if (t.price) {
    notional = amount.times(Decimal.max(new Decimal(t.price), ref));
  } else {
    // A market order pays for the depth it eats: walk the book, and value what the book cannot fill at
    // its last (worst) level, so a large order is not valued at the best quote.
    const walk = walkBook(lazyLevels(own), amount, side);
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

/** A market and where its book comes from. */
export interface MarketVenue {
  market: Market;
  book(depth: number): Promise<OrderBook>;
}

/** The market and its book: the connector's own (a live exchange's, or a paper venue's, with sim standing in offline). */
export async function venueOf(connectors: Connectors, info: ConnectorInfo, pair: string): Promise<MarketVenue> {
  if (info.kind === 'exchange') {
    const c = await connectors.get(info.name);
    const market = (await c.loadMarkets()).find((m) => m.trading_pair === pair);
    if (!market) throw new AppError('NOT_FOUND', `${info.name} does not list ${pair}.`, { hint: `GET /connectors/${info.name}/markets lists its pairs.` });
    return { market, book: (depth) => c.fetchOrderBook(pair, depth) };
  }
  return paperVenue(connectors, info.name, pair);
}

/**
 * The order as the engine will execute it: amount and price quantised to the market's step and tick.
 * The duplicate window and confirmation tokens compare this, so sub-step dust does not make a new order.
 */
export function executableIntent(market: Market, t: TradeIntent): TradeIntent {
  if (t.kind !== 'order' || !t.amount || !t.side) return t;
  const q = quantize(market, t.side, new Decimal(t.amount), t.price ? new Decimal(t.price) : null);
  return { ...t, amount: q.amount.toFixed(), ...(q.price ? { price: q.price.toFixed() } : {}) };
}
