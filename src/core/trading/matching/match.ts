import { AppError } from '../../errors.js';
import { Decimal } from '../../decimal.js';
import type { MarketType } from '../../exchange/types.js';
import { bestOf, crosses, lazyLevels, walkBook, type Execution, type RawLevel } from './book-walk.js';
import { feeOn, PAPER_FEES, q18 } from './fees.js';
import { applyFill, unrealizedPnl, type PositionState } from './position-math.js';

/**
 * The matching engine's arithmetic, with no database, IO or clock: given an order, a book and what the
 * account holds, it says what fills, at what fees, what the balances and the position become and what
 * the rest holds back, or refuses. The paper engine stores the answer in Postgres; a backtest keeps it
 * in memory. Both ledgers call the same functions, so a strategy meets the same fills in both.
 */

const ZERO = new Decimal(0);

export type Side = 'buy' | 'sell';

export interface OrderTerms {
  side: Side;
  orderType: 'market' | 'limit' | 'limit_maker';
  /** Base amount, already quantised to the market's step. */
  amount: Decimal;
  /** Limit price, quantised to the tick; null for a market order. */
  price: Decimal | null;
  positionAction: 'open' | 'close' | null;
  /** The leverage the order asks for (perpetuals); null = the pair's setting. */
  leverage: number | null;
  tradingPair: string;
}

export interface MarketTerms {
  base: string;
  quote: string;
  marketType: MarketType;
}

export interface Balance {
  total: Decimal;
  locked: Decimal;
}

export interface HeldPosition extends PositionState {
  leverage: number;
  realizedPnl: Decimal;
}

/** What the account holds on the order's connector, as the ledger read it under the account lock. */
export interface Holdings {
  balances: ReadonlyMap<string, Balance>;
  /** Perpetual positions on this connector by pair (zero-size rows included). */
  positions: ReadonlyMap<string, HeldPosition>;
  /** The pair's leverage setting for a new position. */
  leverageSetting: number;
}

export interface FillPlan {
  price: Decimal;
  amount: Decimal;
  fee: Decimal;
  realizedPnl: Decimal | null;
  isMaker: boolean;
}

export interface BalanceDelta {
  asset: string;
  total: Decimal;
  locked: Decimal;
}

/** The result of matching one order: everything a ledger must store, and nothing it must compute. */
export interface MatchResult {
  status: 'open' | 'partially_filled' | 'filled' | 'canceled';
  errorMessage: string | null;
  /** The leverage the order trades at (perpetuals), else null. */
  leverage: number | null;
  fills: FillPlan[];
  filled: Decimal;
  averagePrice: Decimal | null;
  feePaid: Decimal;
  reserved: { asset: string; amount: Decimal } | null;
  /** Changes to balances, one per asset, in a stable order. */
  deltas: BalanceDelta[];
  /** The position after the fills (perpetuals that filled), else null. */
  position: HeldPosition | null;
}

const D0: Balance = { total: ZERO, locked: ZERO };
const FLAT = (leverage: number): HeldPosition => ({ amount: ZERO, entryPrice: ZERO, margin: ZERO, leverage, realizedPnl: ZERO });

/** The leverage an order trades at: an open position's own, else the order's, else the pair's setting. */
export function effectiveLeverage(order: Pick<OrderTerms, 'leverage' | 'tradingPair'>, holdings: Holdings): number {
  const p = holdings.positions.get(order.tradingPair);
  return p && !p.amount.isZero() ? p.leverage : (order.leverage ?? holdings.leverageSetting);
}

/**
 * Matches a new order against `book`: a market or limit order takes liquidity level by level (never past
 * its limit), a limit remainder rests and holds funds back, a limit_maker that would take is refused.
 * `marks` prices the account's other open positions for its free margin (perpetuals).
 * Throws the refusal (AppError) when the account cannot pay for it or a close would not reduce.
 */
export function matchOrder(order: OrderTerms, market: MarketTerms, book: { bids: readonly RawLevel[]; asks: readonly RawLevel[] }, holdings: Holdings, marks: ReadonlyMap<string, Decimal>): MatchResult {
  const { side, amount, price: limit } = order;
  const own = side === 'buy' ? book.asks : book.bids;
  if (order.orderType === 'limit_maker' && limit && crosses(side, limit, bestOf(book.bids), bestOf(book.asks))) {
    const best = side === 'buy' ? bestOf(book.asks) : bestOf(book.bids);
    throw new AppError('UPSTREAM_REJECTED', `A limit_maker ${side} at ${limit} would take liquidity (best ${side === 'buy' ? 'ask' : 'bid'} ${best}).`, { hint: 'Use a price that rests on the book, or a limit order.' });
  }
  const taker = order.orderType === 'limit_maker' ? { executions: [] as Execution[], filled: ZERO } : walkBook(lazyLevels(own), amount, side, limit ?? undefined);
  const rest = order.orderType === 'market' ? ZERO : amount.minus(taker.filled);
  const perp = market.marketType === 'perpetual';
  const leverage = perp ? effectiveLeverage(order, holdings) : 1;

  if (perp) checkPerp(order, market, holdings, marks, taker.executions, rest, leverage);
  else checkSpot(order, market, holdings, taker.executions, rest);

  const settled = settle(order, market, holdings, taker.executions, false, leverage);
  const reserved = rest.gt(0) ? reserveFor(order, market, rest, limit!, leverage) : null;
  const deltas = reserved && !reserved.amount.isZero() ? mergeDeltas([...settled.deltas, { asset: reserved.asset, total: ZERO, locked: reserved.amount }]) : settled.deltas;
  const filled = taker.filled;
  const status = rest.gt(0) ? (filled.gt(0) ? 'partially_filled' : 'open') : filled.eq(amount) ? 'filled' : 'canceled';
  return {
    status,
    errorMessage: status === 'canceled' ? (filled.gt(0) ? `the book held only ${filled} ${market.base}; the rest was canceled` : 'the book had no liquidity for this order') : null,
    leverage: perp ? leverage : null,
    fills: settled.fills,
    filled,
    averagePrice: filled.gt(0) ? q18(settled.notional.div(filled)) : null,
    feePaid: settled.feePaid,
    reserved: reserved && { asset: reserved.asset, amount: reserved.amount },
    deltas,
    position: settled.position,
  };
}

/**
 * Books executions of one order into the holdings: balances (spot settles both assets; perpetuals move
 * realised PnL and fees in the quote asset) and the position. Pure: returns the changes.
 */
export function settle(order: Pick<OrderTerms, 'side' | 'tradingPair'>, market: MarketTerms, holdings: Holdings, execs: readonly Execution[], maker: boolean, leverage: number) {
  const rate = PAPER_FEES[market.marketType][maker ? 'maker' : 'taker'];
  const fills: FillPlan[] = [];
  const deltas = new Map<string, BalanceDelta>();
  const add = (asset: string, total: Decimal) => {
    const d = deltas.get(asset) ?? { asset, total: ZERO, locked: ZERO };
    deltas.set(asset, { ...d, total: d.total.plus(total) });
  };
  const perp = market.marketType === 'perpetual';
  const held = holdings.positions.get(order.tradingPair);
  let pos: HeldPosition = held ?? FLAT(leverage);
  const lev = held && !held.amount.isZero() ? held.leverage : leverage;
  let notional = ZERO;
  let feePaid = ZERO;
  for (const e of execs) {
    const gross = e.amount.times(e.price);
    const value = q18(gross);
    const fee = feeOn(gross, rate);
    let realized: Decimal | null = null;
    if (!perp) {
      if (order.side === 'buy') {
        add(market.quote, value.plus(fee).neg());
        add(market.base, e.amount);
      } else {
        add(market.base, e.amount.neg());
        add(market.quote, value.minus(fee));
      }
    } else {
      const change = applyFill(pos, order.side === 'buy' ? e.amount : e.amount.neg(), e.price, lev);
      realized = change.realizedPnl;
      pos = { ...change.next, leverage: lev, realizedPnl: pos.realizedPnl.plus(realized) };
      add(market.quote, realized.minus(fee));
    }
    fills.push({ price: e.price, amount: e.amount, fee, realizedPnl: realized, isMaker: maker });
    notional = notional.plus(gross);
    feePaid = feePaid.plus(fee);
  }
  return { fills, deltas: [...deltas.values()], notional, feePaid, position: perp && execs.length ? pos : null };
}

function checkSpot(order: OrderTerms, market: MarketTerms, holdings: Holdings, execs: readonly Execution[], rest: Decimal): void {
  const fees = PAPER_FEES.spot;
  if (order.side === 'buy') {
    const cost = execs.reduce((s, e) => s.plus(q18(e.amount.times(e.price))).plus(feeOn(e.amount.times(e.price), fees.taker)), ZERO);
    const reserve = rest.gt(0) ? reserveFor(order, market, rest, order.price!, 1).amount : ZERO;
    const need = cost.plus(reserve);
    const have = available(holdings, market.quote);
    if (need.gt(have)) throw insufficientFunds(market.quote, need, have);
  } else {
    const need = execs.reduce((s, e) => s.plus(e.amount), ZERO).plus(rest);
    const have = available(holdings, market.base);
    if (need.gt(have)) throw insufficientFunds(market.base, need, have);
  }
}

function checkPerp(order: OrderTerms, market: MarketTerms, holdings: Holdings, marks: ReadonlyMap<string, Decimal>, execs: readonly Execution[], rest: Decimal, leverage: number): void {
  let equityExtra = ZERO;
  let marginUsed = ZERO;
  for (const [pair, p] of holdings.positions) {
    marginUsed = marginUsed.plus(p.margin);
    if (!p.amount.isZero()) {
      const mark = marks.get(pair);
      if (!mark) throw new AppError('UPSTREAM_UNAVAILABLE', `There is no mark price for the open ${pair} position, so free margin cannot be known.`, { hint: 'Retry shortly.' });
      equityExtra = equityExtra.plus(unrealizedPnl(p, mark));
    }
  }
  const quote = holdings.balances.get(market.quote) ?? D0;
  const free = quote.total.plus(equityExtra).minus(quote.locked).minus(marginUsed);
  const current = holdings.positions.get(order.tradingPair);
  const open = current && !current.amount.isZero() ? current : undefined;
  if (open && order.leverage && order.leverage !== open.leverage) {
    throw new AppError('VALIDATION_FAILED', `Invalid input: leverage: the open ${order.tradingPair} position uses ${open.leverage}x.`, {
      hint: `Omit leverage or pass ${open.leverage}; close the position to change it.`,
      details: { issues: [{ path: 'leverage', message: `the open position uses ${open.leverage}x` }] },
    });
  }
  let pos: PositionState = current ?? FLAT(leverage);
  if (order.positionAction === 'close') {
    const size = pos.amount;
    if (!reduces(size, order.side) || order.amount.gt(size.abs())) {
      throw new AppError('VALIDATION_FAILED', `Invalid input: amount: a close order must reduce the ${order.tradingPair} position (${size.toString()}) without reversing it.`, {
        hint: 'Use POST /trading/close-position, or an amount up to the position size on the opposite side.',
        details: { issues: [{ path: 'amount', message: `at most ${size.abs().toString()} on the ${size.isPositive() ? 'sell' : 'buy'} side` }] },
      });
    }
  }
  let delta = ZERO;
  for (const e of execs) {
    const change = applyFill(pos, order.side === 'buy' ? e.amount : e.amount.neg(), e.price, leverage);
    delta = delta.plus(change.realizedPnl).minus(feeOn(e.amount.times(e.price), PAPER_FEES.perpetual.taker)).minus(change.next.margin.minus(pos.margin));
    pos = change.next;
  }
  const reserve = rest.gt(0) && order.positionAction !== 'close' ? reserveFor(order, market, rest, order.price!, leverage).amount : ZERO;
  const need = delta.neg().plus(reserve);
  if (need.gt(free)) throw insufficientFunds(`${market.quote} margin`, need, Decimal.max(free, ZERO));
}

/** What an open remainder holds back: quote for a buy (price + maker fee), base for a spot sell, margin for perps. */
export function reserveFor(order: Pick<OrderTerms, 'side' | 'positionAction'>, market: MarketTerms, rest: Decimal, price: Decimal, leverage: number): { asset: string; amount: Decimal } {
  if (market.marketType === 'perpetual') {
    if (order.positionAction === 'close') return { asset: market.quote, amount: ZERO };
    const notional = rest.times(price);
    return { asset: market.quote, amount: q18(notional.div(leverage)).plus(feeOn(notional, PAPER_FEES.perpetual.maker)) };
  }
  if (order.side === 'sell') return { asset: market.base, amount: rest };
  const notional = q18(rest.times(price));
  return { asset: market.quote, amount: notional.plus(feeOn(notional, PAPER_FEES.spot.maker)) };
}

/** Whether a trade on `side` reduces a position of signed `size`. */
export function reduces(size: Decimal, side: Side): boolean {
  return !size.isZero() && size.isPositive() === (side === 'sell');
}

/** How much of the position a close order on `side` can still reduce: the opposite side's size, else 0. */
export function reducible(size: Decimal, side: Side): Decimal {
  return reduces(size, side) ? size.abs() : ZERO;
}

function available(h: Holdings, asset: string): Decimal {
  const b = h.balances.get(asset) ?? D0;
  return b.total.minus(b.locked);
}

export function mergeDeltas(list: readonly BalanceDelta[]): BalanceDelta[] {
  const m = new Map<string, BalanceDelta>();
  for (const d of list) {
    const cur = m.get(d.asset);
    m.set(d.asset, cur ? { asset: d.asset, total: cur.total.plus(d.total), locked: cur.locked.plus(d.locked) } : d);
  }
  return [...m.values()].filter((d) => !d.total.isZero() || !d.locked.isZero());
}

/** The refusal for an order the account cannot pay for; the paper engine's and a live preview's. */
export function insufficientFunds(asset: string, need: Decimal, have: Decimal): AppError {
  return new AppError('UPSTREAM_REJECTED', `Insufficient ${asset}: the order needs ${need.toDecimalPlaces(8).toString()}, ${have.toDecimalPlaces(8).toString()} is available.`, {
    hint: 'Reduce the amount, cancel open orders that hold funds, or add paper balance.',
    details: { reason: 'insufficient_funds', asset, required: Number(need.toDecimalPlaces(8)), available: Number(have.toDecimalPlaces(8)) },
  });
}
