import { AppError } from '../command/errors.js';
import type { TradeIntent } from '../command/types.js';
import { Decimal } from '../decimal.js';
import type { Connectors } from '../exchange/connectors.js';
import type { ConnectorInfo, Market } from '../exchange/types.js';
import type { Valuation } from '../portfolio/valuation.js';
import { PAPER_FEES, feeOn } from '../trading/fees.js';
import { paperVenue } from '../trading/venue.js';

export interface OrderValue {
  info: ConnectorInfo;
  market: Market;
  /** The live quote the order is valued at: the ask for a buy, the bid for a sell (last when one side is empty). */
  reference_price: Decimal;
  /** amount × max(limit price, reference price), in the quote asset: what the order can cost at most at this quote. */
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
  const { market, bid, ask } = await quote(connectors, info, t.pair);
  const side = t.side ?? 'buy';
  const ref = (side === 'buy' ? (ask ?? bid) : (bid ?? ask))!;
  const amount = new Decimal(t.amount ?? 0);
  const price = t.price ? Decimal.max(new Decimal(t.price), ref) : ref;
  const notional = amount.times(price);
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

async function quote(connectors: Connectors, info: ConnectorInfo, pair: string): Promise<{ market: Market; bid: Decimal | null; ask: Decimal | null }> {
  if (info.kind === 'exchange') {
    const c = await connectors.get(info.name);
    const market = (await c.loadMarkets()).find((m) => m.trading_pair === pair);
    if (!market) throw new AppError('NOT_FOUND', `${info.name} does not list ${pair}.`, { hint: `GET /connectors/${info.name}/markets lists its pairs.` });
    const t = await c.fetchTicker(pair);
    const last = new Decimal(String(t.last));
    return { market, bid: t.bid !== null ? new Decimal(String(t.bid)) : last, ask: t.ask !== null ? new Decimal(String(t.ask)) : last };
  }
  const venue = await paperVenue(connectors, info.name, pair);
  const ob = await venue.book(1);
  const bid = ob.bids[0] ? new Decimal(String(ob.bids[0].price)) : null;
  const ask = ob.asks[0] ? new Decimal(String(ob.asks[0].price)) : null;
  if (!bid && !ask) throw new AppError('UPSTREAM_UNAVAILABLE', `The ${pair} book on ${info.name} is empty, so the order cannot be valued.`, { hint: 'Retry shortly.' });
  return { market: venue.market, bid, ask };
}
