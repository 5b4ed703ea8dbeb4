import { createHash, randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import { Decimal } from '../decimal.js';
import type { Connectors } from '../exchange/connectors.js';
import type { OrderBook } from '../exchange/types.js';
import { applyRules } from './matching/quantize.js';
import { midOf, paperVenue, type Venue } from './venue.js';

export interface PlaceOrder {
  account_name: string;
  connector_name: string;
  trading_pair: string;
  side: 'buy' | 'sell';
  order_type: 'market' | 'limit' | 'limit_maker';
  amount: string;
  price?: string;
  client_order_id?: string;
  position_action?: 'open' | 'close';
  leverage?: number;
}

/** How deep a paper order may walk the book. */
export const BOOK_DEPTH = 100;

/**
 * Everything about a paper order that does not depend on the account, computed once before the account
 * lock is taken and shared by the guard and the engine: the venue and its rules, one book snapshot, the
 * amount and price quantised to the market. A refusal found here (a field the market does not accept)
 * is kept, not thrown: a retry of an order that already exists is answered with that order, whatever
 * the market says now, and only the ledger (read under the lock) knows whether it exists.
 */
export interface OrderPlan {
  req: PlaceOrder;
  venue: Venue;
  book: OrderBook;
  amount: Decimal;
  price: Decimal | null;
  requestHash: string;
  refusal: AppError | null;
}

/** Null when the connector is a live exchange: those orders take the exchange's path. */
export async function planPaperOrder(connectors: Connectors, req: PlaceOrder): Promise<OrderPlan | null> {
  const info = await connectors.info(req.connector_name);
  if (info.kind === 'exchange') return null;
  const venue = await paperVenue(connectors, req.connector_name, req.trading_pair);
  const book = await venue.book(BOOK_DEPTH);
  let refusal: AppError | null = null;
  let amount = new Decimal(req.amount);
  let price = req.price ? new Decimal(req.price) : null;
  try {
    if (info.market_type === 'spot' && (req.position_action || req.leverage)) {
      throw invalid(req.position_action ? 'position_action' : 'leverage', `${req.connector_name} is a spot connector; position_action and leverage apply to perpetuals`);
    }
    const max = venue.market.rules.max_leverage;
    if (req.leverage && max && req.leverage > max) throw invalid('leverage', `${req.trading_pair} allows at most ${max}x`);
    ({ amount, price } = applyRules(venue.market, req.side, amount, price, await midOf(book)));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    refusal = err;
  }
  return { req, venue, book, amount, price, requestHash: requestHash(req), refusal };
}

/** What makes two placements the same order: a retry must match it, or its client_order_id is refused. */
export function requestHash(r: PlaceOrder): string {
  const canon = [r.account_name, r.connector_name, r.trading_pair, r.side, r.order_type, new Decimal(r.amount).toFixed(), r.price ? new Decimal(r.price).toFixed() : '', r.position_action ?? '', r.leverage ?? ''].join('|');
  return createHash('sha256').update(canon).digest('base64url').slice(0, 32);
}

/** A new order's identity and request fields, as the orders table stores them (a paper or a live order). */
export function orderFields(req: PlaceOrder, amount: Decimal, price: Decimal | null, hash: string) {
  const id = `ord_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  return {
    id,
    clientOrderId: req.client_order_id ?? id,
    accountName: req.account_name,
    connectorName: req.connector_name,
    tradingPair: req.trading_pair,
    side: req.side,
    orderType: req.order_type,
    amount: amount.toFixed(),
    price: price?.toFixed() ?? null,
    positionAction: req.position_action ?? null,
    requestHash: hash,
  };
}

export function invalid(path: string, message: string, hint?: string): AppError {
  return new AppError('VALIDATION_FAILED', `Invalid input: ${path}: ${message}`, { ...(hint ? { hint } : {}), details: { issues: [{ path, message }] } });
}
